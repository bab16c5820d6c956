"""HTTP: the AWS Lambda API (rest-json, as botocore expects it) and lambdahost's native REST API."""
