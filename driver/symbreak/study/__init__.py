"""The study: the cases of the reproduced paper run for several strategies, analysed, compared and reported."""
