"""pathscaat.saliency"""
