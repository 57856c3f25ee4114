-- wrk script: every request creates an order (a durable write).
wrk.method = "POST"
wrk.body = '{"description":"bench order","price":12.50}'
wrk.headers["Content-Type"] = "application/json"
