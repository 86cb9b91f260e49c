"""The learner layer: what a run acts with, above the reward wrappers and below training.

Rooms:
    algorithm      what robrew needs to know of one RL algorithm (:class:`Algorithm`)
    settings       what every algorithm's settings have, and what off-policy learners add
    registry       the algorithms ``robrew-train`` runs (``algo=ppo|sac|tqc``): one line each
    ppo, sac, tqc  one file per algorithm: its settings class (``PpoConfig``, ...), learner class
                   and family defaults
    residual       a frozen base policy (BC / RA-BC) plus a bounded learned correction: the
                   batched base actor, the single-env and SB3 VecEnv adapters, their settings
    residual_ppo   PPO for residual fine-tuning: zero-initialised action head, value-only warm-up
    bc_policy      the BC / RA-BC policy network (chunked actions), saved as safetensors + JSON
    sac_policies   SAC with LayerNorm critics (RLPD)
    demo_replay    demonstrations in every replay batch of an off-policy learner (RLPD-style)
    learner_state  a learner's state files (weights, optimisers, replay) without pickles

Adding an algorithm: a file here that defines its settings and an ``Algorithm`` (copy ``tqc.py``),
and its line in ``registry.ALGORITHMS``; ``algo=<name>`` then works in ``robrew-train``,
checkpoints and evaluation.

Example:
    >>> from robrew.agents.ppo import PpoConfig, PpoParams
    >>> cfg = TrainConfig(task=TaskConfig("tabletop_reach"), reward=RewardConfig(),
    ...                   algo=PpoConfig(params=PpoParams(n_steps=256)))
    >>> from robrew.agents.residual import ResidualConfig, VecResidualAction
    >>> venv = VecResidualAction(venv, load_policy("runs/rabc/policies/rabc"), ResidualConfig(scale=0.1))
"""
