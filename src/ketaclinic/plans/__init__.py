"""Treatment plans: the signed plan for an eligible patient and its planned infusions (dated slots)."""
