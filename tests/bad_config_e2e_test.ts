/**
 * Table-driven: every parameter with a wrong value, missing required ones and
 * contradictory ones. Each run must end with exactly one clear error line naming the
 * parameter, the documented exit code, no request anywhere and the vault untouched.
 */

import { assertFailureTable } from "./support/failure.ts";
import { vaultWithKeys } from "./support/aws.ts";

/** One bad configuration. */
interface Row {
  /** What is wrong. */
  what: string;
  /** The environment (the vault path is added). */
  env: Record<string, string>;
  /** Command-line arguments. */
  args?: string[];
  /** The documented exit code. */
  code: number;
  /** What the error line must say. */
  line: RegExp;
  /** The starting vault (default: AWS keys in their default place). */
  vault?: string;
}

// An address nothing listens on: a config error must be found before any request.
const NOWHERE = "http://127.0.0.1:9";
const AWS = { SECRETS_MANAGER: "AWS_SECRETS_MANAGER", AWS_ENDPOINT_URL: NOWHERE };
const SSM = { SECRETS_MANAGER: "AWS_PARAMETER_STORE", AWS_ENDPOINT_URL: NOWHERE };
const AZ = { SECRETS_MANAGER: "AZURE_KEY_VAULT", SECRETS_AZURE_KEY_VAULT_URL: NOWHERE };
const AZ_SP = {
  ...AZ,
  SECRETS_AZURE_USE_MANAGED_IDENTITY: "0",
  SECRETS_AZURE_TENANT_ID: "72f988bf-86f1-41af-91ab-2d7cd011db47",
  SECRETS_AZURE_CLIENT_ID: "11111111-2222-3333-4444-555555555555",
};
const HV = {
  SECRETS_MANAGER: "HASHICORP_VAULT",
  SECRETS_HASHICORP_VAULT_URL: NOWHERE,
  SECRETS_HASHICORP_VAULT_TOKEN: "hvs.some-token-value",
};
const MISSING_FILE = "/nonexistent/secrets-orchestrator/file";

const ROWS: Row[] = [
  // General parameters.
  {
    what: "unknown backend",
    env: { SECRETS_MANAGER: "VAULTY" },
    code: 2,
    line: /SECRETS_MANAGER="VAULTY" is not a backend/,
  },
  {
    what: "expand json not boolean",
    env: { ...AWS, SECRETS_EXPAND_JSON: "maybe" },
    code: 2,
    line: /SECRETS_EXPAND_JSON="maybe" is not a boolean/,
  },
  {
    what: "allow missing not boolean",
    env: { ...AWS, SECRETS_ALLOW_MISSING: "sometimes" },
    code: 2,
    line: /SECRETS_ALLOW_MISSING="sometimes" is not a boolean/,
  },
  {
    what: "lock timeout negative",
    env: { ...AWS, SECRETS_LOCK_TIMEOUT: "-1" },
    code: 2,
    line: /SECRETS_LOCK_TIMEOUT="-1" is not a positive number/,
  },
  {
    what: "timeout not a number",
    env: { ...AWS, SECRETS_TIMEOUT: "abc" },
    code: 2,
    line: /SECRETS_TIMEOUT="abc" is not a positive number/,
  },
  {
    what: "timeout zero",
    env: { ...AWS, SECRETS_TIMEOUT: "0" },
    code: 2,
    line: /SECRETS_TIMEOUT="0"/,
  },
  {
    what: "request timeout not a number",
    env: { ...AWS, SECRETS_REQUEST_TIMEOUT: "forever" },
    code: 2,
    line: /SECRETS_REQUEST_TIMEOUT="forever"/,
  },
  {
    what: "vault key too short",
    env: { ...AWS, DATAOPS_VAULT_KEY: "short" },
    code: 2,
    line: /DATAOPS_VAULT_KEY/,
  },
  {
    what: "--quiet with --verbose",
    env: AWS,
    args: ["--quiet", "--verbose"],
    code: 2,
    line: /--quiet and --verbose contradict/,
  },
  { what: "unknown flag", env: AWS, args: ["--bogus"], code: 2, line: /bogus.*see --help/ },
  {
    what: "vault file is not YAML",
    env: AWS,
    vault: "A: [unclosed\n",
    code: 6,
    line: /not valid YAML at line/,
  },
  {
    what: "vault top level is a list",
    env: AWS,
    vault: "- a\n- b\n",
    code: 6,
    line: /mapping of keys at its top level/,
  },
  {
    what: "vault credential location is a namespace",
    env: { ...SSM, SECRETS_AWS_ACCESS_KEY_LOCATION: "AWS.DEFAULT" },
    code: 2,
    line: /vault key AWS\.DEFAULT is a namespace, not a credential value/,
  },
  // AWS (both services).
  {
    what: "AWS region invalid",
    env: { ...AWS, SECRETS_AWS_REGION: "mars-north-1!" },
    code: 2,
    line: /SECRETS_AWS_REGION/,
  },
  {
    what: "AWS_REGION invalid",
    env: { ...SSM, AWS_REGION: "nowhere" },
    code: 2,
    line: /AWS_REGION/,
  },
  {
    what: "use role not boolean",
    env: { ...AWS, SECRETS_AWS_USE_ROLE: "perhaps" },
    code: 2,
    line: /SECRETS_AWS_USE_ROLE="perhaps" is not a boolean/,
  },
  {
    what: "access key location not in the vault",
    env: { ...AWS, SECRETS_AWS_ACCESS_KEY_LOCATION: "NO.SUCH.KEY" },
    code: 2,
    line: /NO\.SUCH\.KEY|SECRETS_AWS_ACCESS_KEY_LOCATION/,
  },
  {
    what: "secret key location missing (only one of the two keys)",
    env: { ...AWS, SECRETS_AWS_SECRET_KEY_LOCATION: "AWS.OTHER.SECRET" },
    code: 2,
    line: /AWS\.OTHER\.SECRET|SECRETS_AWS_SECRET_KEY_LOCATION/,
  },
  {
    what: "key location is a namespace",
    env: { ...AWS, SECRETS_AWS_ACCESS_KEY_LOCATION: "AWS.DEFAULT" },
    code: 2,
    line: /AWS\.DEFAULT is a namespace/,
  },
  {
    what: "AWS concurrency zero",
    env: { ...AWS, SECRETS_AWS_CONCURRENCY: "0" },
    code: 2,
    line: /SECRETS_AWS_CONCURRENCY/,
  },
  {
    what: "AWS concurrency not a number",
    env: { ...SSM, SECRETS_AWS_CONCURRENCY: "lots" },
    code: 2,
    line: /SECRETS_AWS_CONCURRENCY/,
  },
  {
    what: "SSM throughput neither standard nor higher",
    env: { ...SSM, SECRETS_AWS_SSM_THROUGHPUT: "fast" },
    code: 2,
    line: /SECRETS_AWS_SSM_THROUGHPUT="fast" must be standard or higher/,
  },
  {
    what: "env access key without secret key",
    env: { ...AWS, SECRETS_AWS_USE_ROLE: "1", AWS_ACCESS_KEY_ID: "AKIAIOSFODNN7EXAMPLE" },
    code: 2,
    line: /AWS_SECRET_ACCESS_KEY/,
  },
  {
    what: "env secret key without access key",
    env: {
      ...AWS,
      SECRETS_AWS_USE_ROLE: "1",
      AWS_SECRET_ACCESS_KEY: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    },
    code: 2,
    line: /AWS_ACCESS_KEY_ID/,
  },
  {
    what: "session token without keys",
    env: {
      ...AWS,
      SECRETS_AWS_USE_ROLE: "1",
      AWS_SESSION_TOKEN: "FwoGZXIvYXdzEXAMPLE",
      AWS_EC2_METADATA_DISABLED: "true",
    },
    code: 2,
    line: /no AWS credentials.*AWS_EC2_METADATA_DISABLED/,
  },
  {
    what: "role ARN without token file",
    env: { ...AWS, SECRETS_AWS_USE_ROLE: "1", AWS_ROLE_ARN: "arn:aws:iam::123456789012:role/ci" },
    code: 2,
    line: /AWS_WEB_IDENTITY_TOKEN_FILE/,
  },
  {
    what: "token file without role ARN",
    env: { ...AWS, SECRETS_AWS_USE_ROLE: "1", AWS_WEB_IDENTITY_TOKEN_FILE: "/tmp/token" },
    code: 2,
    line: /AWS_ROLE_ARN/,
  },
  {
    what: "role ARN malformed",
    env: {
      ...AWS,
      SECRETS_AWS_USE_ROLE: "1",
      AWS_ROLE_ARN: "not-an-arn",
      AWS_WEB_IDENTITY_TOKEN_FILE: MISSING_FILE,
    },
    code: 2,
    line: /AWS_ROLE_ARN/,
  },
  {
    what: "role session name invalid",
    env: {
      ...AWS,
      SECRETS_AWS_USE_ROLE: "1",
      AWS_ROLE_ARN: "arn:aws:iam::123456789012:role/ci",
      AWS_WEB_IDENTITY_TOKEN_FILE: MISSING_FILE,
      AWS_ROLE_SESSION_NAME: "bad name!",
    },
    code: 2,
    line: /AWS_ROLE_SESSION_NAME/,
  },
  {
    what: "container full URI over http to a remote host",
    env: {
      ...AWS,
      SECRETS_AWS_USE_ROLE: "1",
      AWS_CONTAINER_CREDENTIALS_FULL_URI: "http://example.com/creds",
    },
    code: 2,
    line: /AWS_CONTAINER_CREDENTIALS_FULL_URI/,
  },
  {
    what: "container token file missing",
    env: {
      ...AWS,
      SECRETS_AWS_USE_ROLE: "1",
      AWS_CONTAINER_CREDENTIALS_FULL_URI: "http://127.0.0.1:9/creds",
      AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE: MISSING_FILE,
    },
    code: 2,
    line: /AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE/,
  },
  {
    what: "container token with CR/LF",
    env: {
      ...AWS,
      SECRETS_AWS_USE_ROLE: "1",
      AWS_CONTAINER_CREDENTIALS_FULL_URI: "http://127.0.0.1:9/creds",
      AWS_CONTAINER_AUTHORIZATION_TOKEN: "a\r\nX-Injected: 1",
    },
    code: 2,
    line: /AWS_CONTAINER_AUTHORIZATION_TOKEN/,
  },
  {
    what: "endpoint URL not a URL",
    env: { SECRETS_MANAGER: "AWS_SECRETS_MANAGER", AWS_ENDPOINT_URL: "not a url" },
    code: 2,
    line: /AWS_ENDPOINT_URL/,
  },
  {
    what: "Secrets Manager endpoint with a bad scheme",
    env: { ...AWS, AWS_ENDPOINT_URL_SECRETS_MANAGER: "ftp://127.0.0.1:9" },
    code: 2,
    line: /AWS_ENDPOINT_URL_SECRETS_MANAGER/,
  },
  {
    what: "SSM endpoint not a URL",
    env: { ...SSM, AWS_ENDPOINT_URL_SSM: ":::" },
    code: 2,
    line: /AWS_ENDPOINT_URL_SSM/,
  },
  {
    what: "STS endpoint not a URL",
    env: {
      ...AWS,
      SECRETS_AWS_USE_ROLE: "1",
      AWS_ROLE_ARN: "arn:aws:iam::123456789012:role/ci",
      AWS_WEB_IDENTITY_TOKEN_FILE: MISSING_FILE,
      AWS_ENDPOINT_URL_STS: "nope",
    },
    code: 2,
    line: /AWS_ENDPOINT_URL_STS/,
  },
  {
    what: "IMDS disabled and no other credentials",
    env: { ...AWS, SECRETS_AWS_USE_ROLE: "1", AWS_EC2_METADATA_DISABLED: "true" },
    code: 2,
    line: /AWS_EC2_METADATA_DISABLED/,
  },
  {
    what: "IMDS endpoint not a URL",
    env: { ...AWS, SECRETS_AWS_USE_ROLE: "1", AWS_EC2_METADATA_SERVICE_ENDPOINT: "bogus" },
    code: 2,
    line: /AWS_EC2_METADATA_SERVICE_ENDPOINT/,
  },
  // Azure Key Vault.
  {
    what: "Key Vault URL missing",
    env: { SECRETS_MANAGER: "AZURE_KEY_VAULT" },
    code: 2,
    line: /SECRETS_AZURE_KEY_VAULT_URL/,
  },
  {
    what: "Key Vault URL over http to a remote host",
    env: { ...AZ, SECRETS_AZURE_KEY_VAULT_URL: "http://example.vault.azure.net" },
    code: 2,
    line: /SECRETS_AZURE_KEY_VAULT_URL/,
  },
  {
    what: "Key Vault URL not a URL",
    env: { ...AZ, SECRETS_AZURE_KEY_VAULT_URL: "my vault" },
    code: 2,
    line: /SECRETS_AZURE_KEY_VAULT_URL/,
  },
  {
    what: "managed identity flag not boolean",
    env: { ...AZ, SECRETS_AZURE_USE_MANAGED_IDENTITY: "maybe" },
    code: 2,
    line: /SECRETS_AZURE_USE_MANAGED_IDENTITY/,
  },
  {
    what: "service principal without tenant",
    env: { ...AZ_SP, SECRETS_AZURE_TENANT_ID: "" },
    code: 2,
    line: /TENANT_ID/,
  },
  {
    what: "service principal without client id",
    env: { ...AZ_SP, SECRETS_AZURE_CLIENT_ID: "" },
    code: 2,
    line: /CLIENT_ID/,
  },
  {
    what: "tenant id malformed",
    env: { ...AZ_SP, SECRETS_AZURE_TENANT_ID: "../evil" },
    code: 2,
    line: /TENANT_ID/,
  },
  {
    what: "AZURE_TENANT_ID malformed",
    env: { ...AZ_SP, SECRETS_AZURE_TENANT_ID: "", AZURE_TENANT_ID: "a/b" },
    code: 2,
    line: /TENANT_ID/,
  },
  {
    what: "AZURE_CLIENT_ID malformed",
    env: { ...AZ_SP, SECRETS_AZURE_CLIENT_ID: "", AZURE_CLIENT_ID: "x y" },
    code: 2,
    line: /CLIENT_ID/,
  },
  {
    what: "client secret not in the vault",
    env: { ...AZ_SP, SECRETS_AZURE_CLIENT_SECRET_LOCATION: "AZURE.NOPE.SECRET" },
    code: 2,
    line: /AZURE\.NOPE\.SECRET/,
  },
  {
    what: "certificate file missing",
    env: { ...AZ_SP, SECRETS_AZURE_CLIENT_CERTIFICATE_PATH: MISSING_FILE },
    code: 2,
    line: /SECRETS_AZURE_CLIENT_CERTIFICATE_PATH/,
  },
  {
    what: "federated token file missing",
    env: { ...AZ_SP, AZURE_FEDERATED_TOKEN_FILE: MISSING_FILE },
    code: 2,
    line: /AZURE_FEDERATED_TOKEN_FILE/,
  },
  {
    what: "Azure concurrency too large",
    env: { ...AZ, SECRETS_AZURE_CONCURRENCY: "1000" },
    code: 2,
    line: /SECRETS_AZURE_CONCURRENCY/,
  },
  {
    what: "authority host over http to a remote host",
    env: { ...AZ_SP, AZURE_AUTHORITY_HOST: "http://login.example.com" },
    code: 2,
    line: /AZURE_AUTHORITY_HOST/,
  },
  {
    what: "IMDS host not a URL",
    env: { ...AZ, AZURE_POD_IDENTITY_AUTHORITY_HOST: "no url" },
    code: 2,
    line: /AZURE_POD_IDENTITY_AUTHORITY_HOST/,
  },
  {
    what: "IDENTITY_ENDPOINT without IDENTITY_HEADER",
    env: { ...AZ, IDENTITY_ENDPOINT: "http://127.0.0.1:9/msi/token" },
    code: 2,
    line: /IDENTITY_HEADER/,
  },
  {
    what: "IDENTITY_HEADER without IDENTITY_ENDPOINT",
    env: { ...AZ, IDENTITY_HEADER: "some-header-value" },
    code: 2,
    line: /IDENTITY_ENDPOINT/,
  },
  // HashiCorp Vault.
  {
    what: "Vault address missing",
    env: { SECRETS_MANAGER: "HASHICORP_VAULT", SECRETS_HASHICORP_VAULT_TOKEN: "hvs.x-token-value" },
    code: 2,
    line: /SECRETS_HASHICORP_VAULT_URL|VAULT_ADDR/,
  },
  {
    what: "VAULT_ADDR not a URL",
    env: {
      SECRETS_MANAGER: "HASHICORP_VAULT",
      VAULT_ADDR: "vault:8200:x",
      VAULT_TOKEN: "hvs.x-token-value",
    },
    code: 2,
    line: /VAULT_ADDR/,
  },
  {
    what: "Vault URL with a bad scheme",
    env: { ...HV, SECRETS_HASHICORP_VAULT_URL: "ftp://127.0.0.1:9" },
    code: 2,
    line: /SECRETS_HASHICORP_VAULT_URL/,
  },
  {
    what: "KV version 3",
    env: { ...HV, SECRETS_HASHICORP_VAULT_KV_VERSION: "3" },
    code: 2,
    line: /SECRETS_HASHICORP_VAULT_KV_VERSION/,
  },
  {
    what: "no auth method",
    env: { ...HV, SECRETS_HASHICORP_VAULT_TOKEN: "" },
    code: 2,
    line: /TOKEN|JWT|USERNAME/,
  },
  {
    what: "username without password",
    env: { ...HV, SECRETS_HASHICORP_VAULT_TOKEN: "", SECRETS_HASHICORP_VAULT_USERNAME: "ci" },
    code: 2,
    line: /SECRETS_HASHICORP_VAULT_PASSWORD/,
  },
  {
    what: "password without username",
    env: {
      ...HV,
      SECRETS_HASHICORP_VAULT_TOKEN: "",
      SECRETS_HASHICORP_VAULT_PASSWORD: "pw-value-1234",
    },
    code: 2,
    line: /SECRETS_HASHICORP_VAULT_USERNAME/,
  },
  {
    what: "JWT role without a JWT",
    env: { ...HV, SECRETS_HASHICORP_VAULT_JWT_ROLE: "ci" },
    code: 2,
    line: /SECRETS_HASHICORP_VAULT_JWT_ROLE/,
  },
  {
    what: "JWT malformed",
    env: {
      ...HV,
      SECRETS_HASHICORP_VAULT_JWT_ROLE: "ci",
      SECRETS_HASHICORP_VAULT_JWT: "not.a.jwt",
    },
    code: 2,
    line: /SECRETS_HASHICORP_VAULT_JWT/,
  },
  {
    what: "CI_JOB_JWT malformed",
    env: { ...HV, SECRETS_HASHICORP_VAULT_JWT_ROLE: "ci", CI_JOB_JWT: "garbage" },
    code: 2,
    line: /CI_JOB_JWT/,
  },
  {
    what: "VAULT_ID_TOKEN malformed",
    env: { ...HV, SECRETS_HASHICORP_VAULT_JWT_ROLE: "ci", VAULT_ID_TOKEN: "garbage" },
    code: 2,
    line: /VAULT_ID_TOKEN/,
  },
  {
    what: "JWT mount with a slash",
    env: {
      ...HV,
      SECRETS_HASHICORP_VAULT_JWT_ROLE: "ci",
      SECRETS_HASHICORP_VAULT_JWT: "a.b.c",
      SECRETS_HASHICORP_VAULT_JWT_MOUNT: "../sys",
    },
    code: 2,
    line: /SECRETS_HASHICORP_VAULT_JWT_MOUNT/,
  },
  {
    what: "namespace malformed",
    env: { ...HV, SECRETS_HASHICORP_VAULT_NAMESPACE: "a b" },
    code: 2,
    line: /NAMESPACE/,
  },
  {
    what: "VAULT_NAMESPACE malformed",
    env: { ...HV, VAULT_NAMESPACE: "../x" },
    code: 2,
    line: /VAULT_NAMESPACE/,
  },
  {
    what: "CA file missing",
    env: { ...HV, SECRETS_HASHICORP_VAULT_CACERT: MISSING_FILE },
    code: 2,
    line: /SECRETS_HASHICORP_VAULT_CACERT/,
  },
  {
    what: "VAULT_CACERT missing",
    env: { ...HV, VAULT_CACERT: MISSING_FILE },
    code: 2,
    line: /VAULT_CACERT/,
  },
  {
    what: "Vault concurrency zero",
    env: { ...HV, SECRETS_HASHICORP_VAULT_CONCURRENCY: "0" },
    code: 2,
    line: /SECRETS_HASHICORP_VAULT_CONCURRENCY/,
  },
  {
    what: "Vault selector with an empty segment",
    env: { ...HV, SECRETS_SELECTION: "secret/a//b" },
    code: 2,
    line: /SECRETS_SELECTION/,
  },
  // Custom script.
  {
    what: "custom script missing",
    env: { SECRETS_MANAGER: "CUSTOM" },
    code: 2,
    line: /SECRETS_CUSTOM_SCRIPT/,
  },
  {
    what: "custom script not found",
    env: { SECRETS_MANAGER: "CUSTOM", SECRETS_CUSTOM_SCRIPT: MISSING_FILE },
    code: 2,
    line: /SECRETS_CUSTOM_SCRIPT/,
  },
  {
    what: "custom script is a folder",
    env: { SECRETS_MANAGER: "CUSTOM", SECRETS_CUSTOM_SCRIPT: "/tmp" },
    code: 2,
    line: /SECRETS_CUSTOM_SCRIPT/,
  },
  {
    what: "relative custom script under a missing CI_PROJECT_DIR",
    env: {
      SECRETS_MANAGER: "CUSTOM",
      SECRETS_CUSTOM_SCRIPT: "get.py",
      CI_PROJECT_DIR: MISSING_FILE,
    },
    code: 2,
    line: /SECRETS_CUSTOM_SCRIPT|CI_PROJECT_DIR/,
  },
  {
    what: "custom script is not a Python module",
    env: {
      SECRETS_MANAGER: "CUSTOM",
      SECRETS_CUSTOM_SCRIPT: `${Deno.cwd()}/tests/support/custom_source.ts`,
    },
    code: 2,
    line: /custom_source\.ts failed: cannot load it as a Python module/,
  },
  // OIDC tokens, role chaining and the other HashiCorp Vault logins.
  {
    what: "chained role ARN malformed",
    env: { ...AWS, SECRETS_AWS_ROLE_ARN: "arn:aws:iam::12:role/x" },
    code: 2,
    line: /SECRETS_AWS_ROLE_ARN="arn:aws:iam::12:role\/x" is not an IAM role ARN/,
  },
  {
    what: "chained role duration out of range",
    env: {
      ...AWS,
      SECRETS_AWS_ROLE_ARN: "arn:aws:iam::123456789012:role/r",
      SECRETS_AWS_ROLE_DURATION: "60",
    },
    code: 2,
    line: /SECRETS_AWS_ROLE_DURATION="60" is not a whole number from 900 to 43200/,
  },
  {
    what: "external id without a chained role",
    env: { ...AWS, SECRETS_AWS_ROLE_EXTERNAL_ID: "ext-1234" },
    code: 2,
    line: /SECRETS_AWS_ROLE_EXTERNAL_ID is set without SECRETS_AWS_ROLE_ARN/,
  },
  {
    what: "chained role session name invalid",
    env: {
      ...AWS,
      SECRETS_AWS_ROLE_ARN: "arn:aws:iam::123456789012:role/r",
      SECRETS_AWS_ROLE_SESSION_NAME: "a b",
    },
    code: 2,
    line: /SECRETS_AWS_ROLE_SESSION_NAME/,
  },
  {
    what: "SECRETS_OIDC_TOKEN malformed (AWS web identity)",
    env: {
      ...AWS,
      SECRETS_AWS_USE_ROLE: "1",
      AWS_ROLE_ARN: "arn:aws:iam::123456789012:role/ci",
      SECRETS_OIDC_TOKEN: "not-a-jwt",
    },
    code: 2,
    line: /SECRETS_OIDC_TOKEN is not a well-formed JWT/,
  },
  {
    what: "GitHub token endpoint over plain http to a remote host",
    env: {
      ...AWS,
      SECRETS_AWS_USE_ROLE: "1",
      AWS_ROLE_ARN: "arn:aws:iam::123456789012:role/ci",
      ACTIONS_ID_TOKEN_REQUEST_URL: "http://token.example.com/idtoken?api-version=2.0",
      ACTIONS_ID_TOKEN_REQUEST_TOKEN: "request-token-value",
    },
    code: 2,
    line: /ACTIONS_ID_TOKEN_REQUEST_URL must be an https:\/\/ URL/,
  },
  {
    what: "GitHub token endpoint not a URL",
    env: {
      ...AWS,
      SECRETS_AWS_USE_ROLE: "1",
      AWS_ROLE_ARN: "arn:aws:iam::123456789012:role/ci",
      ACTIONS_ID_TOKEN_REQUEST_URL: "idtoken",
      ACTIONS_ID_TOKEN_REQUEST_TOKEN: "request-token-value",
    },
    code: 2,
    line: /ACTIONS_ID_TOKEN_REQUEST_URL="idtoken" is not a URL/,
  },
  {
    what: "SECRETS_OIDC_TOKEN malformed (Azure federated)",
    env: { ...AZ_SP, SECRETS_OIDC_TOKEN: "a.b.c" },
    code: 2,
    line: /SECRETS_OIDC_TOKEN is not a well-formed JWT/,
  },
  {
    what: "Vault auth method unknown",
    env: { ...HV, SECRETS_HASHICORP_VAULT_AUTH_METHOD: "github" },
    code: 2,
    line: /SECRETS_HASHICORP_VAULT_AUTH_METHOD="github" is not an auth method/,
  },
  {
    what: "Vault auth method approle without its ids",
    env: { ...HV, SECRETS_HASHICORP_VAULT_AUTH_METHOD: "approle" },
    code: 2,
    line:
      /AppRole auth needs both SECRETS_HASHICORP_VAULT_ROLE_ID and SECRETS_HASHICORP_VAULT_SECRET_ID/,
  },
  {
    what: "AppRole mount malformed",
    env: {
      ...HV,
      SECRETS_HASHICORP_VAULT_ROLE_ID: "r",
      SECRETS_HASHICORP_VAULT_SECRET_ID: "s-value-1",
      SECRETS_HASHICORP_VAULT_APPROLE_MOUNT: "a//b",
    },
    code: 2,
    line: /SECRETS_HASHICORP_VAULT_APPROLE_MOUNT/,
  },
  {
    what: "Kubernetes mount malformed",
    env: {
      ...HV,
      SECRETS_HASHICORP_VAULT_KUBERNETES_ROLE: "r",
      SECRETS_HASHICORP_VAULT_KUBERNETES_MOUNT: "../sys",
    },
    code: 2,
    line: /SECRETS_HASHICORP_VAULT_KUBERNETES_MOUNT/,
  },
  {
    what: "Kubernetes token file missing",
    env: {
      ...HV,
      SECRETS_HASHICORP_VAULT_KUBERNETES_ROLE: "r",
      SECRETS_HASHICORP_VAULT_KUBERNETES_TOKEN_FILE: MISSING_FILE,
    },
    code: 2,
    line: /SECRETS_HASHICORP_VAULT_KUBERNETES_TOKEN_FILE .* cannot be read/,
  },
  {
    what: "Vault JWT from GitHub without an audience",
    env: {
      ...HV,
      SECRETS_HASHICORP_VAULT_JWT_ROLE: "ci",
      ACTIONS_ID_TOKEN_REQUEST_URL: "https://token.example.com/idtoken?api-version=2.0",
      ACTIONS_ID_TOKEN_REQUEST_TOKEN: "request-token-value",
    },
    code: 2,
    line: /needs SECRETS_OIDC_AUDIENCE/,
  },
  {
    what: "SECRETS_MASK not boolean on GitHub Actions",
    env: { ...AWS, GITHUB_ACTIONS: "true", SECRETS_MASK: "sometimes" },
    code: 2,
    line: /SECRETS_MASK="sometimes" is not a boolean/,
  },
  {
    what: "custom timeout not a number",
    env: {
      SECRETS_MANAGER: "CUSTOM",
      SECRETS_CUSTOM_SCRIPT: "/tmp/x.py",
      SECRETS_CUSTOM_TIMEOUT: "soon",
    },
    code: 2,
    line: /SECRETS_CUSTOM_TIMEOUT/,
  },
];

Deno.test(`${ROWS.length} bad configurations: one clear line each, the documented exit code, vault untouched`, async () => {
  // Run a few at once: each is a separate process and does no network I/O.
  await assertFailureTable(
    ROWS.map((row) => ({ ...row, vault: row.vault ?? vaultWithKeys() })),
    { concurrency: 3 },
  );
});
