"""Per-vendor pipelines: parse -> authenticate -> appraise, returning an Appraisal."""
