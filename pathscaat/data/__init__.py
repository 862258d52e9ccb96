"""pathscaat.data"""
