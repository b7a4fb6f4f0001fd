"""The model-folder contract that `distill` (the writer) and `service` (the reader) share.

It imports neither half: the manifest (task names, graph outputs, schema, read/write/discover), the
validation sample, the variant tolerances and their check, the window-cutting rule and the
answer-span bounds.
"""
