"""pathscaat.project"""
