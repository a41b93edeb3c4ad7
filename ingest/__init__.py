"""Document ingestion: loaders, chunking and incremental indexing."""

from assistant import privacy

privacy.apply()
