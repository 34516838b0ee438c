#!/usr/bin/env python3
"""Generator of sign_vectors.json, the request-signing test vectors of hwc-sign.

Every vector is produced by the official Huawei Cloud Python SDK core
(huaweicloudsdkcore.signer: Signer, SM3Signer, DerivationAKSKSigner,
P256SHA256Signer, SM2SM3Signer), so the Rust crate and the Python package are
tested against the reference implementation rather than against themselves.
The inputs of the vectors are the VECTORS list below; everything under
"output" and "checks" is computed.

Setup (Python 3.8+; the committed file was made with huaweicloudsdkcore 3.1.219 on
Python 3.11.7; the SM3 and SM2 vectors need an OpenSSL with SM3, which the SDK uses through hashlib):

    python3 -m venv /tmp/vecvenv
    /tmp/vecvenv/bin/pip install huaweicloudsdkcore==3.1.219

Run from the repository root:

    D=crates/hwc-sign/tests/data
    /tmp/vecvenv/bin/python $D/make_vectors.py --check $D/sign_vectors.json
    /tmp/vecvenv/bin/python $D/make_vectors.py --write $D/sign_vectors.json

--check PATH  regenerates every vector and compares it with PATH; exits 0 when
              they agree, otherwise prints the first mismatching vector/field
              (and the list of all mismatching fields) and exits 1.
--write PATH  writes the regenerated file (same formatting as the committed one).

ECDSA-P256 and SM2 signatures use a random nonce, so their "signature" fields
cannot be compared for equality. --check instead requires the recorded sample to
verify with the official SigningKey.verify() over the regenerated string to sign,
and compares every other field exactly. --write keeps the sample of the reference
file (--samples-from, by default the sign_vectors.json next to this script) when
it still verifies, so rewriting an unchanged set gives a byte-identical file; pass
--fresh-samples to draw new ones.
"""

import argparse
import contextlib
import copy
import difflib
import hashlib
import hmac
import json
import platform
import sys
from importlib import metadata
from pathlib import Path

from huaweicloudsdkcore.auth.credentials import BasicCredentials
from huaweicloudsdkcore.sdk_request import SdkRequest
from huaweicloudsdkcore.signer import utils as signer_utils
from huaweicloudsdkcore.signer.algorithm import SigningAlgorithm
from huaweicloudsdkcore.signer.signer import (
    DerivationAKSKSigner,
    P256SHA256Signer,
    SM2SM3Signer,
    SM3Signer,
    Signer,
)
from pyasn1.codec.der import decoder as der_decoder

SCHEMA_VERSION = 1
GENERATOR_SCRIPT = "make_vectors.py, which runs huaweicloudsdkcore.signer (official Huawei Cloud Python SDK core)"
PINNED_SDK_VERSION = "3.1.219"

# --------------------------------------------------------------------------- inputs

AK = "HPUAEXAMPLEAK0000001"
SK = "exampleSecretKey0123456789abcdefEXAMPLESK"
PROJECT_ID = "0123456789abcdef0123456789abcdef"
CREDENTIALS = {"ak": AK, "sk": SK, "project_id": PROJECT_ID}

HOST = "workspace.cn-north-4.myhuaweicloud.com"
DATE = "20240102T030405Z"
DELETE_SUB_RESOURCES = "/v2/%s/desktop/delete-sub-resources" % PROJECT_ID
DELETE_BODY = '{"desktop_ids": ["d-1111", "d-2222"], "sub_resource_type": "DESKTOP_SHARER"}'
SECURITY_TOKEN = "gQpjbi1ub3J0aC00ExampleSecurityToken+/=="


def std_headers(**extra):
    """The headers the Workspace client always sends, then `extra` in order
    (header order is part of the vector: it is the order of headers_after_signing)."""
    headers = {"Content-Type": "application/json", "X-Project-Id": PROJECT_ID, "X-Sdk-Date": DATE}
    headers.update(extra)
    return headers


def vector(name, description, signer=Signer, method="POST", host=HOST, resource_path=DELETE_SUB_RESOURCES,
           query_params=(), headers=None, body=DELETE_BODY, derived=None, scheme="https"):
    return {
        "name": name,
        "description": description,
        "signer": signer,
        "derived": derived,
        "input": {
            "method": method,
            "scheme": scheme,
            "host": host,
            "resource_path": resource_path,
            "query_params": list(query_params),
            "headers": std_headers() if headers is None else headers,
            "body": body,
        },
    }


VECTORS = [
    vector(
        "op_basic_json",
        "The operation itself: POST delete-sub-resources, JSON body, X-Project-Id, fixed X-Sdk-Date.",
    ),
    vector(
        "op_with_order_id_and_user_agent",
        "Operation with optional order_id and a User-Agent header (User-Agent IS signed).",
        headers=std_headers(**{"User-Agent": "huaweicloud-usdk-python/3.0; test-agent"}),
        body='{"desktop_ids": ["d-1111"], "sub_resource_type": "DESKTOP_SHARER", "order_id": "CS2401020304ABCDE"}',
    ),
    vector(
        "op_security_token",
        "Temporary AK/SK: X-Security-Token header present before signing (it is signed).",
        headers=std_headers(**{"X-Security-Token": SECURITY_TOKEN}),
    ),
    vector(
        "empty_body_post",
        "POST with empty body (b''): payload hash is SHA-256 of empty string.",
        body="",
    ),
    vector(
        "get_no_body_none",
        "GET with body None (e.g. ShowJob /v2/{project_id}/workspace-jobs/{job_id}).",
        method="GET",
        resource_path="/v2/%s/workspace-jobs/3979904c-7beb-4f34-835f-2fa989a5550a" % PROJECT_ID,
        body=None,
    ),
    vector(
        "query_unicode_space_reserved",
        "Query keys/values with space, unicode, reserved chars; sorted by key; encoded with quote(safe='~').",
        method="GET",
        resource_path="/v2/%s/desktops/detail" % PROJECT_ID,
        query_params=[
            ("user_name", "Zo\u00eb M\u00fcller"),
            ("name", "a b+c&d=e/f?g#h"),
            ("marker", "~-._*!'()"),
            ("tag", "\u4e2d\u6587"),
            ("empty", ""),
        ],
        body=None,
    ),
    vector(
        "query_multi_values_bool_int",
        "Multiple values for one key (as separate tuples and as a list value; signer sorts), bool and int values.",
        method="GET",
        resource_path="/v2/%s/desktops" % PROJECT_ID,
        query_params=[
            ("status", "SHUTOFF"),
            ("status", "ACTIVE"),
            ("desktop_ids", ["d-3", "d-1", "d-2"]),
            ("is_detail", True),
            ("offline", False),
            ("limit", 100),
            ("offset", 0),
        ],
        body=None,
    ),
    vector(
        "path_needs_percent_encoding",
        "Resource path segments with pre-encoded space, unicode, '%2F' and raw '@' and ':'; canonical URI = unquote, "
        "split on '/', quote(safe='~') each segment, ensure trailing '/'. Wire URI keeps resource_path verbatim.",
        method="GET",
        resource_path="/v2/%s/x%%20y/%%E4%%B8%%AD/a%%2Fb/c@d:e/" % PROJECT_ID,
        body=None,
    ),
    vector(
        "header_edge_cases",
        "Uppercase header name, surrounding whitespace in values (stripped), header with underscore (sent but NOT "
        "signed), explicit Host header with port (not overwritten).",
        host="127.0.0.1:8443",
        headers=std_headers(**{
            "X-CUSTOM-UPPER": "  Value With Spaces  ",
            "x_underscore_hdr": "skipped",
            "Host": "127.0.0.1:8443",
            "X-Empty": "",
        }),
    ),
    vector(
        "non_ascii_body",
        "Raw UTF-8 body with non-ASCII chars (the SDK client itself would send \\uXXXX escapes; this tests that the "
        "payload hash is over the UTF-8 bytes).",
        body='{"desktop_ids": ["\u684c\u9762-1", "Zo\u00eb"], "sub_resource_type": "DESKTOP_SHARER"}',
    ),
    vector(
        "unsigned_payload_octet_stream",
        "Non-JSON Content-Type: signer adds X-Sdk-Content-Sha256: UNSIGNED-PAYLOAD and uses it as payload hash.",
        method="PUT",
        resource_path="/v2/%s/upload" % PROJECT_ID,
        headers={"Content-Type": "application/octet-stream", "X-Project-Id": PROJECT_ID, "X-Sdk-Date": DATE},
        body="raw-bytes-0123",
    ),
    vector(
        "no_content_type_no_date",
        "No Content-Type and no X-Sdk-Date supplied -> date would be generated from the clock; here we pass the "
        "lowercase 'x-sdk-date' header to show case-insensitive lookup.",
        method="DELETE",
        resource_path="/v2/%s/desktops/d-1" % PROJECT_ID,
        headers={"X-Project-Id": PROJECT_ID, "x-sdk-date": DATE},
        body=None,
    ),
    vector(
        "derived_v11_hmac_sha256",
        "DerivationAKSKSigner (V11-HMAC-SHA256); service name and region are caller-supplied (Workspace builder does "
        "not set a derived service name; values here are illustrative).",
        signer=DerivationAKSKSigner,
        derived={"service_name": "workspace", "region_id": "cn-north-4"},
    ),
    vector(
        "derived_v11_with_query_and_token",
        "DerivationAKSKSigner with query string and X-Security-Token.",
        signer=DerivationAKSKSigner,
        derived={"service_name": "workspace", "region_id": "ap-southeast-1"},
        method="GET",
        host="workspace.ap-southeast-1.myhuaweicloud.com",
        resource_path="/v2/%s/desktops" % PROJECT_ID,
        query_params=[("name", "a b"), ("limit", 10)],
        headers=std_headers(**{"X-Security-Token": SECURITY_TOKEN}),
        body=None,
    ),
    vector(
        "non_ascii_header_value",
        "Non-ASCII header value: canonical form uses the UTF-8 text; the signer rewrites the header value in place to "
        "value.encode('utf-8').decode('iso-8859-1') so requests sends raw UTF-8 bytes.",
        headers=std_headers(**{"X-Client-Desc": " \u684c\u9762 Zo\u00eb "}),
    ),
    vector(
        "sm3_hmac",
        "SM3Signer (SDK-HMAC-SM3), HttpConfig(signing_algorithm=SigningAlgorithm.HMAC_SM3).",
        signer=SM3Signer,
    ),
    vector(
        "ecdsa_p256_sha256",
        "P256SHA256Signer (SDK-ECDSA-P256-SHA256). Signature is randomized (random k): canonical request, string to "
        "sign and the derived key pair are deterministic; the recorded signature is one sample that verifies with the "
        "official P256SigningKey.verify().",
        signer=P256SHA256Signer,
    ),
    vector(
        "sm2_sm3",
        "SM2SM3Signer (SDK-SM2-SM3). Randomized like ECDSA; key pair deterministic; sample signature verifies with the "
        "official SM2SigningKey.verify() (uid 1234567812345678).",
        signer=SM2SM3Signer,
    ),
]

# ------------------------------------------------------------------------- signing

RANDOMIZED = (P256SHA256Signer, SM2SM3Signer)
SIGNING_ALGORITHM = {
    Signer: SigningAlgorithm.HMAC_SHA256,
    DerivationAKSKSigner: SigningAlgorithm.HMAC_SHA256,
    SM3Signer: SigningAlgorithm.HMAC_SM3,
    P256SHA256Signer: SigningAlgorithm.ECDSA_P256_SHA256,
    SM2SM3Signer: SigningAlgorithm.SM2_SM3,
}
# Fields that change from one signing to the next with a randomized signer.
RANDOM_FIELDS = ("signature", "authorization", "headers_after_signing.Authorization")


def recording(cls):
    """The official signer class, unchanged, except that it remembers the intermediate values
    it computes (sign() only returns the finished request)."""

    class Recording(cls):
        def __init__(self, credentials):
            super().__init__(credentials)
            self.seen = {}

        def _process_signed_headers(self, request):
            self.seen["signed_headers"] = super()._process_signed_headers(request)
            return self.seen["signed_headers"]

        def _process_hash_payload(self, request):
            self.seen["payload_hash"] = super()._process_hash_payload(request)
            return self.seen["payload_hash"]

        def _process_canonical_request(self, request, signed_headers):
            self.seen["canonical_request"] = super()._process_canonical_request(request, signed_headers)
            return self.seen["canonical_request"]

        def _process_string_to_sign(self, *args, **kwargs):
            self.seen["string_to_sign"] = super()._process_string_to_sign(*args, **kwargs)
            return self.seen["string_to_sign"]

        def _sign_string_to_sign(self, string_to_sign, key=None):
            self.seen["signing_key"] = key
            self.seen["signature"] = super()._sign_string_to_sign(string_to_sign, key)
            return self.seen["signature"]

    return Recording


def new_request(defn):
    given = defn["input"]
    # Deep copies: the signer rewrites header values and sorts list-valued query params in place,
    # and the vector must record the inputs as given.
    return SdkRequest(
        method=given["method"],
        schema=given["scheme"],
        host=given["host"],
        resource_path=given["resource_path"],
        query_params=copy.deepcopy(given["query_params"]),
        header_params=copy.deepcopy(given["headers"]),
        body=given["body"],
        signing_algorithm=SIGNING_ALGORITHM[defn["signer"]],
    )


def credentials():
    return BasicCredentials(CREDENTIALS["ak"], CREDENTIALS["sk"], CREDENTIALS["project_id"])


@contextlib.contextmanager
def fixed_nonce(k):
    """Makes the official ECDSA/SM2 signer draw `k` as its random nonce (both sign() methods
    look _secure_randint up in their module at call time)."""
    original = signer_utils._secure_randint
    signer_utils._secure_randint = lambda low, high: k
    try:
        yield
    finally:
        signer_utils._secure_randint = original


def nonce_of(signing_key, signature_hex, string_to_sign):
    """The nonce k that made `signature_hex`, recovered with the private key, so the official
    signer can be made to reproduce a recorded sample instead of drawing a new one."""
    seq, _ = der_decoder.decode(bytes.fromhex(signature_hex))
    r, s = int(seq.components[0]), int(seq.components[1])
    n, d = signing_key.PARAM_n, signing_key._private_key
    if isinstance(signing_key, signer_utils.SM2SigningKey):
        # s = ((1 + d)^-1 * (k + r) - r) mod n
        return ((s + r) * (1 + d) - r) % n
    # s = k^-1 * (e + d * r) mod n
    e = int.from_bytes(hashlib.sha256(string_to_sign.encode("utf-8")).digest(), "big")
    return pow(s, -1, n) * (e + d * r) % n


def sign_once(defn, nonce=None):
    cls = defn["signer"]
    signer = recording(cls)(credentials())
    request = new_request(defn)
    with fixed_nonce(nonce) if nonce is not None else contextlib.nullcontext():
        if defn["derived"]:
            signer.sign(request, defn["derived"]["service_name"], defn["derived"]["region_id"])
        else:
            signer.sign(request)
    seen = signer.seen
    output = {
        "canonical_request": seen["canonical_request"],
        "string_to_sign": seen["string_to_sign"],
        "signature": seen["signature"],
        "authorization": request.header_params["Authorization"],
        "signed_headers": ";".join(seen["signed_headers"]),
        "payload_hash": seen["payload_hash"],
        "headers_after_signing": dict(request.header_params),
        "uri": request.uri,
        "url": request.url,
    }
    if defn["derived"]:
        output["derivation_info"] = seen["string_to_sign"].split("\n")[2]
        output["derived_key_hex"] = seen["signing_key"]
    signing_key = signer.get_signing_key() if cls in RANDOMIZED else None
    if signing_key is not None:
        x, y = signing_key._public_key
        output["signature_randomized"] = True
        output["derived_private_key_hex"] = "%064x" % signing_key._private_key
        output["public_key_x_hex"] = "%064x" % x
        output["public_key_y_hex"] = "%064x" % y
        output["sample_signature_verifies"] = sample_verifies(
            signing_key, output["signature"], output["string_to_sign"])
    return output, signing_key


def sample_verifies(signing_key, signature_hex, string_to_sign):
    try:
        return bool(signing_key.verify(bytes.fromhex(signature_hex), string_to_sign.encode("utf-8")))
    except Exception:  # a malformed recorded sample (bad hex or DER) simply does not verify
        return False


def without_random_fields(output):
    out = copy.deepcopy(output)
    for field in RANDOM_FIELDS:
        parent, _, leaf = field.rpartition(".")
        (out[parent] if parent else out).pop(leaf, None)
    return out


# --------------------------------------------------------- checks outside the signer

def hash_name(cls):
    return "sm3" if cls in (SM3Signer, SM2SM3Signer) else "sha256"


def independent_recompute(defn, output):
    """Recomputes, with hashlib/hmac only, every hash, HMAC and key derivation the signer did
    from the canonical request on; a disagreement means the recording above is wrong."""
    cls, given = defn["signer"], defn["input"]
    digest = hash_name(cls)
    hex_hash = lambda data: hashlib.new(digest, data).hexdigest()
    lines = output["canonical_request"].split("\n")
    date = next(v for k, v in given["headers"].items() if k.lower() == "x-sdk-date")

    body = (given["body"] or "").encode("utf-8")
    content_type = given["headers"].get("Content-Type")
    unsigned = bool(content_type) and not content_type.startswith(("application/json", "application/bson"))
    if not body:
        expected_payload = hex_hash(b"")
    elif unsigned:
        expected_payload = "UNSIGNED-PAYLOAD"
    else:
        expected_payload = hex_hash(body)
    ok = output["payload_hash"] == expected_payload == lines[-1]
    ok = ok and output["signed_headers"] == lines[-2]

    algorithm = cls._ALGORITHM
    scope = [output["derivation_info"]] if defn["derived"] else []
    expected_sts = "\n".join([algorithm, date] + scope + [hex_hash(output["canonical_request"].encode("utf-8"))])
    ok = ok and output["string_to_sign"] == expected_sts

    if defn["derived"]:
        info = "%s/%s/%s" % (date[:8], defn["derived"]["region_id"], defn["derived"]["service_name"])
        prk = hmac.new(AK.encode(), SK.encode(), hashlib.sha256).digest()  # HKDF-Extract, salt = AK
        okm = hmac.new(prk, info.encode() + b"\x01", hashlib.sha256).digest()  # HKDF-Expand, one block
        ok = ok and output["derivation_info"] == info and output["derived_key_hex"] == okm.hex()
        # The SDK keys the HMAC with the hex text of the derived key, not with its bytes.
        key = okm.hex().encode()
    else:
        key = SK.encode()

    if cls in RANDOMIZED:
        ok = ok and output["derived_private_key_hex"] == "%064x" % derive_private_key(cls, digest)
    else:
        ok = ok and output["signature"] == hmac.new(key, expected_sts.encode("utf-8"), digest).hexdigest()

    sig_label = "Credential=%s/%s" % (AK, scope[0]) if scope else "Access=%s" % AK
    expected_auth = "%s %s, SignedHeaders=%s, Signature=%s" % (
        algorithm, sig_label, output["signed_headers"], output["signature"])
    return ok and output["authorization"] == expected_auth == output["headers_after_signing"]["Authorization"]


def derive_private_key(cls, digest):
    """The counter-mode HMAC key derivation of the ECDSA/SM2 signers (NIST SP 800-108 shape)."""
    n_minus_two = (signer_utils.SM2SigningKey if cls is SM2SM3Signer else signer_utils.P256SigningKey).N_MINUS_TWO
    for counter in range(0xFF):
        context = AK.encode() + bytes([counter])
        data = b"\x00\x00\x00\x01" + cls._ALGORITHM.encode() + b"\x00" + context + b"\x00\x00\x01\x00"
        candidate = int.from_bytes(hmac.new(SK.encode(), data, digest).digest(), "big")
        if candidate <= n_minus_two:
            return candidate + 1
    raise RuntimeError("no candidate private key")


def credentials_path_matches(defn, output):
    """BasicCredentials.sign_request() is how the SDK client signs; it must give the same request
    as the signer called directly. Only the default algorithm goes that way without extra
    client configuration, so the check is None for the other signers."""
    if defn["signer"] is not Signer:
        return None
    request = credentials().sign_request(new_request(defn))
    return (dict(request.header_params) == output["headers_after_signing"]
            and request.uri == output["uri"] and request.url == output["url"])


# ------------------------------------------------------------------------- building

def build_vector(defn, sample=None):
    """One vector as it goes into the file. `sample` is a recorded randomized signature to
    reproduce if it verifies; returns (vector, sample_rejected)."""
    output, signing_key = sign_once(defn)
    rejected = False
    if signing_key is not None and sample is not None:
        if sample_verifies(signing_key, sample, output["string_to_sign"]):
            output, _ = sign_once(defn, nonce=nonce_of(signing_key, sample, output["string_to_sign"]))
        else:
            rejected = True

    rerun, _ = sign_once(defn)
    checks = {
        "rerun_identical": without_random_fields(rerun) == without_random_fields(output)
        and (signing_key is not None or rerun == output),
        "credentials_sign_request_matches": credentials_path_matches(defn, output),
        "independent_hmac_recompute": independent_recompute(defn, output),
    }

    given = copy.deepcopy(defn["input"])
    given["query_params"] = [list(p) for p in given["query_params"]]
    given["body_utf8_hex"] = None if given["body"] is None else given["body"].encode("utf-8").hex()
    cls = defn["signer"]
    vec = {
        "name": defn["name"],
        "description": defn["description"],
        "signer": "%s.%s" % (cls.__module__, cls.__qualname__),
        "algorithm": cls._ALGORITHM,
        "credentials": dict(CREDENTIALS),
    }
    if defn["derived"]:
        vec["derived"] = dict(defn["derived"])
    vec.update({"input": given, "output": output, "checks": checks})
    return vec, rejected


def generator_info():
    return {
        "script": GENERATOR_SCRIPT,
        "huaweicloudsdkcore": metadata.version("huaweicloudsdkcore"),
        "python": platform.python_version(),
    }


def build_document(samples):
    vectors, rejected = [], []
    for defn in VECTORS:
        vec, was_rejected = build_vector(defn, samples.get(defn["name"]))
        vectors.append(vec)
        if was_rejected:
            rejected.append(defn["name"])
    return {"schema_version": SCHEMA_VERSION, "generator": generator_info(), "vectors": vectors}, rejected


def dump(document):
    # The committed file: one-space indent, non-ASCII kept as UTF-8, no trailing newline.
    return json.dumps(document, indent=1, ensure_ascii=False).encode("utf-8")


def recorded_samples(document):
    return {v["name"]: v["output"]["signature"] for v in document.get("vectors", [])
            if v.get("output", {}).get("signature_randomized")}


# --------------------------------------------------------------------------- modes

def differences(expected, got, path=""):
    """Paths at which two JSON values differ, in document order."""
    if isinstance(expected, dict) and isinstance(got, dict):
        out = []
        for key in list(expected) + [k for k in got if k not in expected]:
            sub = "%s.%s" % (path, key) if path else key
            if key not in got or key not in expected:
                out.append((sub, expected.get(key, "<absent>"), got.get(key, "<absent>")))
            else:
                out.extend(differences(expected[key], got[key], sub))
        if not out and list(expected) != list(got):
            out.append((path + " (key order)", list(expected), list(got)))
        return out
    if isinstance(expected, list) and isinstance(got, list) and len(expected) == len(got):
        out = []
        for i, (e, g) in enumerate(zip(expected, got)):
            out.extend(differences(e, g, "%s[%d]" % (path, i)))
        return out
    if expected != got or type(expected) is not type(got):
        return [(path, expected, got)]
    return []


def show(label, value):
    return "  %s: %s" % (label, json.dumps(value, ensure_ascii=False))


def check(path):
    recorded = json.loads(Path(path).read_text(encoding="utf-8"))
    regenerated, rejected = build_document(recorded_samples(recorded))

    if recorded.get("generator") != regenerated["generator"]:
        print("note: %s was generated with %s; this run uses %s (not a failure by itself)"
              % (path, json.dumps(recorded.get("generator")), json.dumps(regenerated["generator"])))

    failures = []
    if recorded.get("schema_version") != SCHEMA_VERSION:
        failures.append(("schema_version", recorded.get("schema_version"), SCHEMA_VERSION))
    names_rec = [v.get("name") for v in recorded.get("vectors", [])]
    names_gen = [v["name"] for v in regenerated["vectors"]]
    if names_rec != names_gen:
        missing = [n for n in names_gen if n not in names_rec]
        extra = [n for n in names_rec if n not in names_gen]
        failures.append(("vectors (names, in order)",
                         {"not in VECTORS": extra} if extra else names_rec,
                         {"only in VECTORS": missing} if missing else names_gen))
    by_name = {v.get("name"): v for v in recorded.get("vectors", [])}
    for vec in regenerated["vectors"]:
        name = vec["name"]
        if name not in by_name:
            continue
        if name in rejected:
            failures.append(("%s: output.signature" % name, by_name[name]["output"]["signature"],
                             "<recorded sample does NOT verify with the official key"
                             " over the regenerated string_to_sign>"))
        for field, expected, got in differences(by_name[name], vec):
            if name in rejected and field.startswith("output.") and field[len("output."):] in RANDOM_FIELDS:
                continue  # already reported as the rejected sample
            failures.append(("%s: %s" % (name, field), expected, got))

    if not failures:
        print("OK: %d vectors in %s match the official signer (huaweicloudsdkcore %s)"
              % (len(names_gen), path, regenerated["generator"]["huaweicloudsdkcore"]))
        return 0

    where, expected, got = failures[0]
    print("MISMATCH in %s, first at %s" % (path, where))
    if isinstance(expected, str) and isinstance(got, str) and "\n" in expected + got:
        sys.stdout.writelines(difflib.unified_diff(
            (expected + "\n").splitlines(True), (got + "\n").splitlines(True), "recorded", "regenerated"))
    else:
        print(show("recorded   ", expected))
        print(show("regenerated", got))
    if len(failures) > 1:
        print("%d mismatching fields in all:" % len(failures))
        for where, _, _ in failures:
            print("  " + where)
    return 1


def write(path, samples_from, fresh):
    samples = {}
    if not fresh and samples_from and Path(samples_from).exists():
        samples = recorded_samples(json.loads(Path(samples_from).read_text(encoding="utf-8")))
    document, rejected = build_document(samples)
    for name in rejected:
        print("note: %s: the sample in %s does not verify any more; drew a fresh one" % (name, samples_from))
    bad = [v["name"] for v in document["vectors"] if False in v["checks"].values()
           or v["output"].get("sample_signature_verifies") is False]
    Path(path).write_bytes(dump(document))
    print("wrote %d vectors to %s" % (len(document["vectors"]), path))
    if bad:
        print("warning: checks failed for: %s" % ", ".join(bad), file=sys.stderr)
        return 1
    return 0


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--check", metavar="PATH", help="compare PATH with freshly generated vectors")
    mode.add_argument("--write", metavar="PATH", help="write freshly generated vectors to PATH")
    parser.add_argument("--samples-from", metavar="PATH", default=str(Path(__file__).with_name("sign_vectors.json")),
                        help="--write: reuse the randomized (ECDSA/SM2) sample signatures of this file when they "
                             "still verify (default: sign_vectors.json next to this script)")
    parser.add_argument("--fresh-samples", action="store_true",
                        help="--write: draw new randomized sample signatures")
    args = parser.parse_args(argv)

    version = metadata.version("huaweicloudsdkcore")
    if version != PINNED_SDK_VERSION:
        print("note: huaweicloudsdkcore %s installed; the committed vectors come from %s"
              % (version, PINNED_SDK_VERSION), file=sys.stderr)
    if args.check:
        return check(args.check)
    return write(args.write, args.samples_from, args.fresh_samples)


if __name__ == "__main__":
    sys.exit(main())
