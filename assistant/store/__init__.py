"""The index: documents and their versions, keyword search and vector search.

``Store`` (facade.py) is what the rest of the code uses; base.py names its three parts
as interfaces (catalog.py, keywords.py and vectors.py implement them on SQLite and
Chroma); filters.py holds the retrieval filters both searches obey.
"""

from assistant.store.base import Catalog, KeywordIndex, StoreLockedError, VectorIndex
from assistant.store.facade import Store
from assistant.store.filters import Filters, date_number
from assistant.types import DocumentRecord

__all__ = [
    "Catalog",
    "DocumentRecord",
    "Filters",
    "KeywordIndex",
    "Store",
    "StoreLockedError",
    "VectorIndex",
    "date_number",
]
