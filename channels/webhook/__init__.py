"""Generic signed inbound webhook: an ERP or shop back-end posts tickets to the helpdesk."""
