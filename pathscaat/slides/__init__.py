"""pathscaat.slides"""
