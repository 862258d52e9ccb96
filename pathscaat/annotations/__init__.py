"""pathscaat.annotations"""
