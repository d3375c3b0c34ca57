"""Uncertainty: one array shape, probabilities [N, C, T], for MC-dropout, ensembles and heads.

* ``sampling`` (torch): ``mc_dropout_probs`` (head / full scope), ``mc_dropout_from_fused``,
  ``ensemble_probs``, ``multihead_probs``, ``combine``, ``encode_all`` / ``iter_encode``.
* ``acquisition`` (numpy only): entropy, least_confidence, margin, bald, variation_ratio,
  vote_entropy, mean_kl; ``ACQUISITIONS`` registry, ``score_all``, ``top_k``, ``votes``.
* ``revote`` (numpy only): question-type weighted voting of ensemble members.
* ``calibration`` (numpy only): temperature scaling, ECE, reliability diagram.

Nothing is imported here: the numpy-only modules do not pull in torch.
"""
