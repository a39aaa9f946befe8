"""Transcript import: readers per format, encodings, normalisation, speakers, the pipeline."""
