"""Multi-head self-attention written out by hand, with cutoff-weighted keys, and a transformer layer.

    attn = CutoffAttention(d_model=64, n_heads=4)
    y = attn(x, log_weights(w))   # x (N, T, d), w (N, T) in [0, 1], 0 = absent token

Attention probabilities are p_ab = w_b exp(q_a.k_b / sqrt(d)) / sum_c w_c exp(q_a.k_c / sqrt(d)),
i.e. softmax(QK^T/sqrt(d) + log w) V as in PET: a neighbour entering or leaving
the cutoff (w -> 0) fades out of every other token's view continuously, and
padding tokens (w = 0, log w = -inf) are ignored. Written with plain tensor
operations and ``torch.softmax`` (which has a double backward) because torch's
fused CPU ``scaled_dot_product_attention`` has none (needed to train on forces).
"""

from __future__ import annotations

import math

import torch
from torch import nn

from ...core.errors import InputError


class CutoffAttention(nn.Module):
    """y = CutoffAttention(d_model, n_heads)(x, log_weights(w)): multi-head attention over tokens weighted by w."""

    def __init__(self, d_model: int, n_heads: int):
        super().__init__()
        if d_model % n_heads:
            raise InputError(f"d_model ({d_model}) must be a multiple of n_heads ({n_heads})")
        self.n_heads = n_heads
        self.d_head = d_model // n_heads
        self.qkv = nn.Linear(d_model, 3 * d_model)
        self.out = nn.Linear(d_model, d_model)

    def forward(self, x: torch.Tensor, log_w: torch.Tensor) -> torch.Tensor:
        n, t, d = x.shape
        q, k, v = self.qkv(x).view(n, t, 3, self.n_heads, self.d_head).permute(2, 0, 3, 1, 4)
        logits = (q * (1.0 / math.sqrt(self.d_head))) @ k.transpose(-1, -2)  # (n, h, t, t)
        p = torch.softmax(logits + log_w[:, None, None, :], dim=-1)
        y = (p @ v).transpose(1, 2).reshape(n, t, d)
        return self.out(y)


def log_weights(weights: torch.Tensor) -> torch.Tensor:
    """log_w = log_weights(w): log w where w > 0 and -inf where w == 0 (absent tokens), NaN-free gradients."""
    tiny = torch.finfo(weights.dtype).tiny
    return torch.where(weights > 0, torch.log(weights.clamp_min(tiny)), float("-inf"))


class TransformerLayer(nn.Module):
    """x = TransformerLayer(d_model, n_heads, d_feedforward)(x, log_weights(w)): pre-norm attention + SiLU MLP, residual."""

    def __init__(self, d_model: int, n_heads: int, d_feedforward: int):
        super().__init__()
        self.norm_attention = nn.LayerNorm(d_model)
        self.attention = CutoffAttention(d_model, n_heads)
        self.norm_mlp = nn.LayerNorm(d_model)
        self.mlp = nn.Sequential(nn.Linear(d_model, d_feedforward), nn.SiLU(), nn.Linear(d_feedforward, d_model))

    def forward(self, x: torch.Tensor, log_w: torch.Tensor) -> torch.Tensor:
        x = x + self.attention(self.norm_attention(x), log_w)
        return x + self.mlp(self.norm_mlp(x))
