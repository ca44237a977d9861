"""Requests for a free assessment from the public page: the intake coordinator's queue, each request turned
into a patient and a referral in one step or closed with a reason. Above screening in the layers: converting
uses the patient registry and screening's referrals; nothing below needs to know requests exist."""
