"""IVB-assistent: answers about the Integraal Veiligheidsbeleid 2024-2027, with checked sources."""

from assistant import privacy

privacy.apply()
