-- wrk script: POST the body in $WRK_BODY to $WRK_PATH, counting non-2xx answers.
wrk.method = "POST"
wrk.body = os.getenv("WRK_BODY")
wrk.path = os.getenv("WRK_PATH")
wrk.headers["Content-Type"] = "application/json"
