"""Document ingestion: readers, chunking and incremental indexing."""

from assistant import privacy

privacy.apply()
