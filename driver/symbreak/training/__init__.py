"""Dataset generation and the training loop of the PET-style model.

    from symbreak.training.train import TrainConfig, read_labelled, train
    from symbreak.training.evaluate import evaluate_model
"""
