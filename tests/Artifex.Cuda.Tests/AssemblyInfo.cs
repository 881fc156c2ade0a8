// GPU tests must not race on contexts, streams or NCCL initialization: one collection for the whole assembly runs them one at a time.
[assembly: CollectionBehavior(CollectionBehavior.CollectionPerAssembly)]
