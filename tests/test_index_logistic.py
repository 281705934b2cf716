"""The inbox's numpy logistic regression finds scikit-learn's model (same objective), without importing it."""
from __future__ import annotations

import numpy as np
import pytest

from index._logistic import BalancedLogistic


def _objective(coef, intercept, x, y, c):
    z = x @ coef + intercept
    n, pos = len(y), y.sum()
    s = np.where(y > 0, n / (2 * pos), n / (2 * (n - pos)))
    return c * float((s * (np.logaddexp(0, z) - y * z)).sum()) + 0.5 * float(coef @ coef)


@pytest.mark.parametrize("positives,c", [(4, 1.0), (40, 1.0), (150, 0.3)])
def test_same_model_as_scikit_learn(positives, c):
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(positives)
    x = rng.normal(size=(400, 24))
    x[:positives] += rng.normal(size=24) * 0.8  # positives share a direction
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    y = np.r_[np.ones(positives), np.zeros(len(x) - positives)]
    ours = BalancedLogistic(c).fit(x, y)
    ref = LogisticRegression(C=c, class_weight="balanced", max_iter=5000, tol=1e-10).fit(x, y)
    assert _objective(ours.coef_, ours.intercept_, x, y, c) <= _objective(ref.coef_[0], ref.intercept_[0], x, y, c) + 1e-6
    probe = rng.normal(size=(50, 24))
    assert np.allclose(ours.predict_proba(probe), ref.predict_proba(probe), atol=2e-3)


def test_one_class_is_refused():
    with pytest.raises(ValueError, match="both classes"):
        BalancedLogistic().fit(np.ones((3, 2)), np.ones(3))
