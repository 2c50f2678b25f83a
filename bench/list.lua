-- wrk script of bench/run.py: list the studies, the first page of the URL's query
-- (`?limit=20`), again and again. The baseline app answers a fixed page of that size.

wrk.method = "GET"
wrk.headers["Authorization"] = "Bearer bench-key"
