"""Small building blocks shared by the model files: activations and He/Kaiming initialisation (arXiv 1502.01852)."""
from __future__ import annotations

from torch import nn

from ._registry import InvalidOption

__all__ = ["ACTIVATIONS", "channel_shuffle", "he_init", "make_act"]

ACTIVATIONS = ("relu", "prelu")

# 1502.01852 initialises PReLU slopes at 0.25 and derives the gain sqrt(2 / (1 + a^2)) for that slope.
_PRELU_INIT = 0.25


def make_act(act: str, channels: int) -> nn.Module:
    """A fresh activation module: ``"relu"`` (no parameters) or ``"prelu"`` (one learned slope per channel)."""
    if act == "relu":
        return nn.ReLU(inplace=True)
    if act == "prelu":
        return nn.PReLU(channels, init=_PRELU_INIT)
    raise InvalidOption(f"act must be one of {ACTIVATIONS}, not {act!r}")


def he_init(model: nn.Module, act: str = "relu") -> None:
    """He initialisation (1502.01852, eq. 10: fan-out form) for convolutions; BN to identity; linear N(0, 0.01).

    The slope ``a`` of the activation enters the gain, so a PReLU net starts with the variance the paper derives.
    """
    a = _PRELU_INIT if act == "prelu" else 0.0
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            nn.init.kaiming_normal_(m.weight, a=a, mode="fan_out", nonlinearity="leaky_relu")
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, (nn.BatchNorm2d, nn.GroupNorm)):
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)
        elif isinstance(m, nn.Linear):
            nn.init.normal_(m.weight, 0.0, 0.01)
            if m.bias is not None:
                nn.init.zeros_(m.bias)


def channel_shuffle(x, groups: int):
    """ShuffleNet's channel shuffle: (N, g*k, H, W) -> reshape (N, g, k) -> transpose -> flatten."""
    n, c, h, w = x.shape
    return x.view(n, groups, c // groups, h, w).transpose(1, 2).reshape(n, c, h, w)
