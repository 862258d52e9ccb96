"""pathscaat.training"""
