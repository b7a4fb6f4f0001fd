"""General (task-agnostic) distillation: a DistilBERT student imitates a pretrained BERT on raw
text, as in the pre-training step of Sanh et al. (2019); its student can then start any task run
(`distill run --student-init`). `distill.corpus` reads and packs the text, `masking` masks it afresh
each time a sequence is seen, `losses` holds the terms, `model` the teacher and the MLM student,
`raw_text_trainer` the loop, `evaluate` the held-out measurements, `general_report` the report and
`general_pipeline` the whole step."""
