-- wrk script: POST the AdmissionReview in BENCH_BODY (a file path) to the target, with JSON content type.
local f = assert(io.open(os.getenv("BENCH_BODY"), "rb"))
wrk.method = "POST"
wrk.body = f:read("*a")
f:close()
wrk.headers["Content-Type"] = "application/json"
