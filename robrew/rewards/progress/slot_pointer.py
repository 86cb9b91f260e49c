"""Instruction-conditioned pointing over object slots: the ``slots`` progress encoder.

For object-centric observations (``proprio`` values, then ``n`` slots of ``[present, x, y, z,
...]``, e.g. the tabletop ``obs="objects"`` layout: a slot per colour for blocks and one for
pads), the instruction chooses which objects matter. Each of ``n_queries`` queries (e.g. "the
object to move", "where it goes") is a linear map of the instruction embedding — or, given
token embeddings (B, L, D), of the words that query picks out by its own attention over the
tokens (so "red" in "the red cube" can serve the block query in a phrasing never seen); it attends over
learned slot identities (the slot index is the colour, so this learns colour words) plus a
learned *null* slot (chosen when the named object is absent: "no such block" -> no progress).
The pooled positions are turned into egocentric, relational features — object minus gripper,
object minus object — so the trunk never sees absolute layouts it could memorise.

Example:
    >>> ptr = SlotPointer(proprio_dim=7, slot_dim=4, n_slots=12, text_dim=384, hidden=128)
    >>> h = ptr(obs_normalised, obs_raw, text_embeddings)  # (B, 128)
"""

from __future__ import annotations

import torch
from torch import nn

POSITION_SCALE = 10.0  # metres -> decimetres, so relative offsets are O(1)


class SlotPointer(nn.Module):
    """Text-conditioned soft pointers over object slots, then relational features.

    Args:
        proprio_dim: Leading observation values that are not slots; the first 3 are the
            gripper (end-effector) position.
        slot_dim: Values per slot: ``[present (0/1), x, y, z, ...]``.
        n_slots: Number of slots after the proprio part.
        text_dim: Instruction embedding size.
        hidden: Output feature size.
        n_queries: Objects the instruction points at (2: what to move, where to).
        key_dim: Attention width.
    """

    def __init__(
        self,
        proprio_dim: int,
        slot_dim: int,
        n_slots: int,
        text_dim: int,
        hidden: int,
        n_queries: int = 2,
        key_dim: int = 32,
    ):
        super().__init__()
        if proprio_dim < 3 or slot_dim < 4 or n_slots < 1 or n_queries < 1:
            raise ValueError(
                f"slots encoder needs proprio_dim >= 3 (gripper xyz first), slot_dim >= 4 ([present, x, y, z]), "
                f"n_slots >= 1, n_queries >= 1; got {proprio_dim}, {slot_dim}, {n_slots}, {n_queries}"
            )
        self.proprio_dim, self.slot_dim, self.n_slots, self.n_queries = proprio_dim, slot_dim, n_slots, n_queries
        self.key_dim = key_dim
        self.slot_keys = nn.Parameter(torch.randn(n_slots + 1, key_dim) / key_dim**0.5)  # last = null slot
        self.queries = nn.Linear(text_dim, n_queries * key_dim)
        self.word_queries = nn.Linear(text_dim, n_queries)  # token-level input: which words each query reads
        n_rel = n_queries + n_queries * (n_queries - 1) // 2  # object - gripper, object - object
        in_dim = proprio_dim + 3 * n_rel + n_queries * (1 + (slot_dim - 4))  # + null weight + extra slot values
        self.mlp = nn.Sequential(nn.Linear(in_dim, hidden), nn.ReLU())

    def slots(self, obs_raw: torch.Tensor) -> torch.Tensor:
        """(B, n_slots, slot_dim) slot values of raw (B, obs_dim) observations."""
        return obs_raw[:, self.proprio_dim :].reshape(-1, self.n_slots, self.slot_dim)

    def present(self, obs_raw: torch.Tensor) -> torch.Tensor:
        """(B, n_slots) bool: which slots hold an object (their ``present`` flag is set)."""
        return self.slots(obs_raw)[..., 0] > 0.5

    def attention(self, obs_raw: torch.Tensor, text: torch.Tensor) -> torch.Tensor:
        """(B, n_queries, n_slots + 1) weights over the present slots and the null slot."""
        present = self.present(obs_raw)
        present = torch.cat([present, torch.ones_like(present[:, :1])], dim=1)
        q = self._queries(text)
        logits = torch.einsum("bqd,sd->bqs", q, self.slot_keys) / self.key_dim**0.5
        return logits.masked_fill(~present[:, None, :], float("-inf")).softmax(dim=-1)

    def _queries(self, text: torch.Tensor) -> torch.Tensor:
        """(B, n_queries, key_dim) slot queries from (B, D) sentence or (B, L, D) token embeddings."""
        if text.ndim == 2:
            return self.queries(text).reshape(-1, self.n_queries, self.key_dim)
        pad = text.abs().sum(-1) == 0  # (B, L) zero rows are padding
        reads = self.word_queries(text).masked_fill(pad[..., None], float("-inf")).softmax(dim=1)  # (B, L, Q)
        words = torch.einsum("blq,bld->bqd", reads, text)  # what each query read
        w = self.queries.weight.reshape(self.n_queries, self.key_dim, -1)
        b = self.queries.bias.reshape(self.n_queries, self.key_dim)
        return torch.einsum("bqd,qkd->bqk", words, w) + b

    def forward(self, obs_norm: torch.Tensor, obs_raw: torch.Tensor, text: torch.Tensor) -> torch.Tensor:
        """(B, hidden) features from normalised proprio, raw slot positions and the instruction."""
        slots = self.slots(obs_raw)
        w = self.attention(obs_raw, text)
        values = torch.cat([slots[..., 1:], torch.zeros_like(slots[:, :1, 1:])], dim=1)  # null slot: zeros
        pooled = torch.einsum("bqs,bsv->bqv", w, values)  # (B, Q, slot_dim - 1)
        pos = pooled[..., :3] * POSITION_SCALE
        grip = obs_raw[:, :3, None].transpose(1, 2) * POSITION_SCALE
        rel = [pos - grip]
        pairs = [pos[:, j] - pos[:, i] for i in range(self.n_queries) for j in range(i + 1, self.n_queries)]
        if pairs:
            rel.append(torch.stack(pairs, dim=1))
        feats = [
            obs_norm[:, : self.proprio_dim],
            torch.cat(rel, dim=1).flatten(1),
            w[..., -1],
            pooled[..., 3:].flatten(1),
        ]
        return self.mlp(torch.cat(feats, dim=1))
