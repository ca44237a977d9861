"""Referrals and screening: the first step of the pathway, ending in a prescriber-signed eligibility
decision."""
