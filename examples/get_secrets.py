"""Example custom secrets script for secrets-orchestrator (SECRETS_MANAGER=CUSTOM).

get_secrets() returns a dict of dotted vault paths to values: strings, numbers,
booleans or nested dicts. Anything it prints goes to stderr and never into the vault.
A real script would call an in-house secrets service here.
"""


def fetch_from_inhouse_store(name):
    # Stand-in for a call to your own secrets service.
    demo = {
        "snowflake/transform": "demo-transform-password",
        "snowflake/ingest": "demo-ingest-password",
    }
    return demo[name]


def get_secrets():
    print("contacting the in-house secrets store (this line goes to stderr)")
    return {
        "SNOWFLAKE.TRANSFORM.USERNAME": "transform_user",
        "SNOWFLAKE.TRANSFORM.PASSWORD": fetch_from_inhouse_store("snowflake/transform"),
        "SNOWFLAKE.INGEST": {
            "USERNAME": "ingest_user",
            "PASSWORD": fetch_from_inhouse_store("snowflake/ingest"),
        },
        "APP.PORT": 8443,
        "APP.DEBUG": False,
    }
