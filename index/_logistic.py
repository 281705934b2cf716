"""A class-balanced, L2-regularised logistic regression in numpy (Newton's method), for the inbox's per-tag classifiers.

It minimises the objective scikit-learn's `LogisticRegression(C=c, class_weight="balanced")` minimises,
``C * sum_i s_i * logloss_i + ||w||^2 / 2`` (intercept not penalised, s_i = n / (2 * count of y_i's class)), so it
finds the same model; it exists because importing scikit-learn (and with it scipy) costs 1.5-4 s, more than the
whole of a cold `reading inbox` is allowed. On ~400-d embeddings each Newton step is one small linear solve.
"""
from __future__ import annotations

import numpy as np


def _log1pexp(z: np.ndarray) -> np.ndarray:
    return np.logaddexp(0.0, z)


class BalancedLogistic:
    """Binary logistic regression with balanced class weights; `predict_proba` as scikit-learn's."""

    def __init__(self, c: float = 1.0, max_iter: int = 100, tol: float = 1e-8) -> None:
        self.c, self.max_iter, self.tol = float(c), int(max_iter), float(tol)
        self.coef_ = np.zeros(0)
        self.intercept_ = 0.0

    def _objective(self, w: np.ndarray, x1: np.ndarray, y: np.ndarray, s: np.ndarray) -> float:
        z = x1 @ w
        loss = s * (_log1pexp(z) - y * z)
        return float(self.c * loss.sum() + 0.5 * w[:-1] @ w[:-1])

    def fit(self, x: np.ndarray, y: np.ndarray) -> BalancedLogistic:
        x = np.asarray(x, dtype=np.float64)
        y = np.asarray(y, dtype=np.float64)
        n, d = x.shape
        pos = float(y.sum())
        if pos in (0.0, float(n)):
            raise ValueError("both classes are needed")
        s = np.where(y > 0, n / (2 * pos), n / (2 * (n - pos)))
        x1 = np.hstack([x, np.ones((n, 1))])
        w = np.zeros(d + 1)
        penalty = np.ones(d + 1)
        penalty[-1] = 1e-12  # the intercept is not penalised (a tiny ridge keeps the Hessian invertible)
        current = self._objective(w, x1, y, s)
        for _ in range(self.max_iter):
            p = 1.0 / (1.0 + np.exp(-(x1 @ w)))
            grad = self.c * (x1.T @ (s * (p - y))) + penalty * w
            grad[-1] -= 1e-12 * w[-1]
            hess = (x1.T * (self.c * s * p * (1 - p))) @ x1 + np.diag(penalty)
            step = np.linalg.solve(hess, grad)
            t = 1.0
            while True:  # backtracking: Newton's full step is almost always taken
                trial = w - t * step
                value = self._objective(trial, x1, y, s)
                if value <= current - 1e-4 * t * float(grad @ step) or t < 1e-6:
                    break
                t *= 0.5
            w, done = trial, current - value <= self.tol * max(1.0, abs(current))
            current = value
            if done:
                break
        self.coef_, self.intercept_ = w[:-1], float(w[-1])
        return self

    def decision_function(self, x: np.ndarray) -> np.ndarray:
        return np.asarray(x, dtype=np.float64) @ self.coef_ + self.intercept_

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        """(n, 2): probability of class 0, then of class 1."""
        p1 = 1.0 / (1.0 + np.exp(-self.decision_function(x)))
        return np.stack([1 - p1, p1], axis=1)
