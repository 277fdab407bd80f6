import { readFile } from "node:fs/promises";
import { text } from "node:stream/consumers";
import { Command, Option } from "commander";
import { KubeClient } from "../kube/client.ts";
import { loadClusterAccess } from "../kube/cluster-access.ts";
import { fetchControllerCertificate, readCertificateFrom } from "../secrets/sealed/cert-source.ts";
import { controllerRequest, describeProxyFailure, type ControllerService } from "../secrets/sealed/controller-proxy.ts";
import {
  formatManifest,
  parseManifest,
  sealedSecretFromManifest,
  sealSecret,
  SCOPES,
  secretFromManifest,
  usableSealingCertificate,
  type ManifestFormat,
  type SealingScope,
} from "../secrets/sealed/index.ts";

interface SealFlags {
  cert?: string;
  scope?: SealingScope;
  output: ManifestFormat;
  reEncrypt?: string;
  fetchCert?: boolean;
  allowEmptyData?: boolean;
  namespace?: string;
  controllerNamespace: string;
  controllerName: string;
  kubeconfig?: string;
  context?: string;
}

function readInput(file: string | undefined): Promise<string> {
  return !file || file === "-" ? text(process.stdin) : readFile(file, "utf8");
}

const describeInput = (file: string | undefined) => (!file || file === "-" ? "standard input" : file);

function clientFor(flags: SealFlags): KubeClient {
  return KubeClient.load({ ...(flags.kubeconfig ? { kubeconfig: flags.kubeconfig } : {}), ...(flags.context ? { context: flags.context } : {}) });
}

/** Like kubeseal: a Secret without a namespace goes to the kubeconfig context's namespace ("default" when it names none). */
function contextNamespace(flags: SealFlags): string | undefined {
  try {
    const access = loadClusterAccess({ ...(flags.kubeconfig ? { kubeconfig: flags.kubeconfig } : {}), ...(flags.context ? { context: flags.context } : {}) });
    return access.namespace ?? "default";
  } catch {
    return undefined;
  }
}

async function certificateFor(flags: SealFlags, service: ControllerService): Promise<{ pem: string; source: string }> {
  if (flags.cert) return { pem: await readCertificateFrom(flags.cert), source: flags.cert };
  const client = clientFor(flags);
  try {
    return { pem: await fetchControllerCertificate(client, service), source: `the certificate of ${service.namespace}/${service.name}` };
  } finally {
    client.close();
  }
}

/** `--re-encrypt`: only the controller holds the private keys, so it re-seals (kubeseal's POST /v1/rotate). */
async function reEncrypt(flags: SealFlags, file: string, service: ControllerService): Promise<unknown> {
  const source = describeInput(file);
  const sealed = sealedSecretFromManifest(parseManifest(await readInput(file), source), source);
  const client = clientFor(flags);
  try {
    const response = await controllerRequest(client, service, "POST", "/v1/rotate", JSON.stringify(sealed));
    if (response.statusCode !== 200) throw new Error(`the controller ${service.namespace}/${service.name} could not re-encrypt ${source} (${describeProxyFailure(response)})`);
    const rotated = sealedSecretFromManifest(JSON.parse(response.body), "the controller's answer");
    delete rotated.metadata.creationTimestamp;
    delete rotated.metadata.generation;
    delete rotated.status;
    return rotated;
  } finally {
    client.close();
  }
}

/** `fjord seal`: kubeseal's sealing, with the controller's certificate or one given. */
export function sealCommand(): Command {
  return new Command("seal")
    .description("seal a Secret (YAML or JSON, from a file or stdin) into a SealedSecret that only the controller can unseal; kubeseal-compatible")
    .argument("[file]", "the Secret to seal, - for stdin", "-")
    .option("--cert <file|url>", "the controller's certificate (default: fetched from the controller through the API server)")
    .addOption(new Option("--scope <scope>", "where the SealedSecret may be unsealed (default: the Secret's scope annotations, else strict)").choices([...SCOPES]))
    .addOption(new Option("-o, --output <format>", "output format").choices(["json", "yaml"]).default("json"))
    .option("--re-encrypt <sealed-file>", "re-seal an existing SealedSecret (- for stdin) with the controller's newest key; needs the controller")
    .option("--fetch-cert", "print the controller's certificate and exit")
    .option("--allow-empty-data", "seal a Secret without data")
    .option("-n, --namespace <ns>", "namespace for a Secret that names none (default: the kubeconfig context's)")
    .option("--controller-namespace <ns>", "namespace of the controller's Service", "fjord-system")
    .option("--controller-name <name>", "name of the controller's Service", "fjord-controller")
    .option("--kubeconfig <file>", "kubeconfig (default: $KUBECONFIG or ~/.kube/config)")
    .option("--context <name>", "kubeconfig context")
    .action(async (file: string, flags: SealFlags) => {
      const service = { namespace: flags.controllerNamespace, name: flags.controllerName };
      if (flags.reEncrypt) {
        process.stdout.write(formatManifest(await reEncrypt(flags, flags.reEncrypt, service), flags.output));
        return;
      }
      const certificate = await certificateFor(flags, service);
      const { publicKey } = usableSealingCertificate(certificate.pem, certificate.source);
      if (flags.fetchCert) {
        process.stdout.write(certificate.pem);
        return;
      }
      const source = describeInput(file);
      const secret = secretFromManifest(parseManifest(await readInput(file), source), source);
      const defaultNamespace = flags.namespace ?? (secret.metadata.namespace ? undefined : contextNamespace(flags));
      const sealed = sealSecret(secret, publicKey, {
        ...(flags.scope ? { scope: flags.scope } : {}),
        ...(defaultNamespace ? { defaultNamespace } : {}),
        ...(flags.allowEmptyData ? { allowEmptyData: true } : {}),
      });
      process.stdout.write(formatManifest(sealed, flags.output));
    });
}
