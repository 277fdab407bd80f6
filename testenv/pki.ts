import { createCertificateAuthority, generateEcKeyPair, issueCertificate, type IssuedCertificate, type KeyPairPem } from "../src/pki/x509.ts";

export interface ControlPlanePki {
  ca: IssuedCertificate;
  apiServer: IssuedCertificate;
  admin: IssuedCertificate;
  controllerManager: IssuedCertificate;
  scheduler: IssuedCertificate;
  serviceAccount: KeyPairPem;
}

/** Every identity the local control plane needs, signed by one throw-away CA. */
export async function generateControlPlanePki(serviceIp: string): Promise<ControlPlanePki> {
  const ca = await createCertificateAuthority("fjord-testenv-ca");
  const [apiServer, admin, controllerManager, scheduler, serviceAccount] = await Promise.all([
    issueCertificate(ca, {
      commonName: "kube-apiserver",
      usage: "server",
      dnsNames: ["localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc", "kubernetes.default.svc.cluster.local"],
      ipAddresses: ["127.0.0.1", serviceIp],
    }),
    // system:masters bypasses RBAC, like kind's and kubeadm's admin.conf.
    issueCertificate(ca, { commonName: "fjord-admin", organizations: ["system:masters"], usage: "client" }),
    // The built-in RBAC bootstrap policy grants these well-known user names what they need.
    issueCertificate(ca, { commonName: "system:kube-controller-manager", usage: "client" }),
    issueCertificate(ca, { commonName: "system:kube-scheduler", usage: "client" }),
    generateEcKeyPair(),
  ]);
  return { ca, apiServer, admin, controllerManager, scheduler, serviceAccount };
}
