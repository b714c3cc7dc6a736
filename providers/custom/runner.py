# The custom backend's runner: imports the user's script, calls get_secrets(), and prints
# the result as JSON after a marker on the real stdout; everything the script prints goes
# to stderr, so noise cannot corrupt the result.
#
# Python runs it with -I (isolated: no working folder or user site on sys.path, PYTHON*
# variables ignored), and everything the runner needs is imported here, before the
# script's own folder is put on sys.path: a json.py or traceback.py beside the script or
# in the project cannot run inside the runner.
import importlib.util, json, math, os, sys
MARK = sys.argv[2]
class RunnerError(Exception):
    """A problem the runner itself found: its message names keys and types, never values."""
def check(value, key):
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            if not isinstance(k, str):
                raise RunnerError("get_secrets() has a key %r under %r that is not a string" % (type(k).__name__, key or "the top level"))
            out[k] = check(v, k if not key else key + "." + k)
        return out
    if isinstance(value, (bool, str)):
        return value
    if isinstance(value, int):
        return value if abs(value) < 2 ** 53 else str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise RunnerError("get_secrets() gives %r a number that is not finite" % key)
        return value
    raise RunnerError("get_secrets() gives %r a %s; only str, int, float, bool and dict can be stored" % (key, type(value).__name__))
def where(error, path):
    """The file and line an exception came from: the script's innermost frame when there is
    one, else the innermost frame at all (the frames themselves, no source read)."""
    if isinstance(error, SyntaxError) and error.filename:
        return os.path.basename(error.filename), error.lineno or 0
    script = os.path.abspath(path)
    found = last = None
    tb = error.__traceback__
    while tb is not None:
        name = tb.tb_frame.f_code.co_filename
        last = (name, tb.tb_lineno)
        if os.path.abspath(name) == script:
            found = last
        tb = tb.tb_next
    name, line = found or last or (path, 0)
    return os.path.basename(name), line
def main():
    out = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    path = sys.argv[1]
    try:
        # Only the script's own folder, as `python3 script.py` has it.
        sys.path.insert(0, os.path.dirname(os.path.abspath(path)))
        spec = importlib.util.spec_from_file_location("custom_secrets_script", path)
        if spec is None or spec.loader is None:
            raise RunnerError("cannot load it as a Python module")
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
    except RunnerError as error:
        result = {"error": str(error)}
    except BaseException as error:
        # The script's own message often holds what it just handled (a token, int(pw)):
        # sent apart, and printed only with --verbose, after redaction.
        name, line = where(error, path)
        try:
            message = str(error)
        except BaseException:
            message = "(the exception's message cannot be shown)"
        result = {"exception": {"type": type(error).__name__, "file": name, "line": line, "message": message}}
    sys.stderr.flush()
    out.write(MARK + json.dumps(result, allow_nan=False) + "\n")
    out.flush()
main()
