"""The VQA model, plain torch (no Qt).

* ``encoders``: media encoders by name (``cnn_grid``, ``mobilenet_grid``, ``pointnet``) mapping
  images or point clouds to K region features, question encoders (``gru``, ``transformer``);
  ``register_media_encoder`` / ``register_question_encoder`` for plugins.
* ``fusion``: low-rank bilinear attention (BAN-style) -> fused vector and attention [B, G, K].
* ``net``: ``ModelConfig``, ``VQANet`` (encode / head / heads / head_samples / forward),
  checkpoint config and ``arch_signature``, ``vqa_loss``.

Nothing is imported here, so ``import vqa_studio.core.model`` is cheap; import the submodules.
"""
