"""AWS ACM + CloudFront + Route 53 emulator: moto server in-process plus the behaviours AWS has and moto lacks.

Run standalone with ``python -m emulators.aws --port N``; in tests, ``AwsEmulator(port=0).start()``.
See docs/emulators-aws.md and COVERAGE.md. Importing this package changes nothing in moto; building an
``AwsEmulator`` installs the backend wrappers (acm.py, cloudfront.py, route53.py) for the whole process.
"""
