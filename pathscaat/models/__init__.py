"""pathscaat.models"""
