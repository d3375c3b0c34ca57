"""The core: storage, data, models, uncertainty, training. Never imports Qt."""
