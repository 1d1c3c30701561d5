"""Tags: per-user labels on tasks, case-insensitive, renamable and mergeable."""
