"""pathscaat.inference"""
