"""The read side for officers and management: the division MIS and its companions
(collections, negative-balance ageing, meter rollout), in CSV, JSON, XLSX and PDF."""
