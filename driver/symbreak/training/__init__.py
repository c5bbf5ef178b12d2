"""Dataset generation and the training of the PET-style model: data, loss and loop in their own modules.

    from symbreak.training.config import TrainConfig       # settings with documented defaults
    from symbreak.training.data import read_labelled       # labelled frames and training batches
    from symbreak.training.loss import model_terms         # energy, force and rotational consistency terms
    from symbreak.training.train import train              # the loop: epochs, checkpoints, log.tsv
    from symbreak.training.evaluate import evaluate_model
"""
