# The custom backend's runner: imports the user's script, calls get_secrets(), and prints
# the result as JSON after a marker on the real stdout; everything the script prints goes
# to stderr, so noise cannot corrupt the result.
import importlib.util, json, math, os, sys, traceback
MARK = sys.argv[2]
def check(value, key):
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            if not isinstance(k, str):
                raise TypeError("get_secrets() has a key %r under %r that is not a string" % (type(k).__name__, key or "the top level"))
            out[k] = check(v, k if not key else key + "." + k)
        return out
    if isinstance(value, (bool, str)):
        return value
    if isinstance(value, int):
        return value if abs(value) < 2 ** 53 else str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise TypeError("get_secrets() gives %r a number that is not finite" % key)
        return value
    raise TypeError("get_secrets() gives %r a %s; only str, int, float, bool and dict can be stored" % (key, type(value).__name__))
def main():
    out = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    path = sys.argv[1]
    try:
        sys.path.insert(0, os.path.dirname(os.path.abspath(path)))
        spec = importlib.util.spec_from_file_location("custom_secrets_script", path)
        if spec is None or spec.loader is None:
            raise ImportError("cannot load it as a Python module")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        get = getattr(module, "get_secrets", None)
        if not callable(get):
            result = {"error": "the script defines no get_secrets() function"}
        else:
            secrets = get()
            if not isinstance(secrets, dict):
                result = {"error": "get_secrets() returned %s, not a dict" % type(secrets).__name__}
            else:
                result = {"secrets": check(secrets, "")}
    except BaseException as error:
        line = ""
        for frame in traceback.extract_tb(error.__traceback__):
            if os.path.abspath(frame.filename) == os.path.abspath(path):
                line = " (line %d)" % frame.lineno
        result = {"error": "%s: %s%s" % (type(error).__name__, error, line)}
    sys.stderr.flush()
    out.write(MARK + json.dumps(result, allow_nan=False) + "\n")
    out.flush()
main()
