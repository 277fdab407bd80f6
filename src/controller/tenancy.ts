/**
 * How the controller separates tenants (namespaces), in one place: which references between
 * objects of different namespaces it follows, and as whom it writes a tenant's objects. Every
 * reconciler asks this object; no reconciler reads the controller's flags itself.
 *
 * Flux's lockdown options, with Flux's names and meanings:
 * - `--no-cross-namespace-refs`: every reference from an object to an object of another
 *   namespace is refused (Application.sourceRef and dependsOn, ImagePolicy.imageRepositoryRef,
 *   ImageUpdateAutomation.sourceRef). It wins over `--allow-cross-namespace-sources`.
 * - `--default-service-account`: an Application without `serviceAccountName` is applied as
 *   this ServiceAccount of its own namespace.
 * fjord's older `--allow-cross-namespace-sources` still decides source references when
 * `--no-cross-namespace-refs` is off: off by default, so a tenant cannot use (and read through)
 * another tenant's GitRepository or ImageRepository.
 */

/** Flux's reason for a refused reference (fluxcd/pkg/apis/acl). */
export const ACCESS_DENIED_REASON = "AccessDenied";

export interface TenancyOptions {
  /** Let sources (GitRepository, ImageRepository) of another namespace be used. */
  allowCrossNamespaceSources?: boolean;
  /** Refuse every reference to another namespace, whatever `allowCrossNamespaceSources` says. */
  noCrossNamespaceRefs?: boolean;
  /** The ServiceAccount (of the Application's own namespace) Applications without one are applied as. */
  defaultServiceAccount?: string;
}

export interface NamespacedName {
  kind: string;
  namespace: string;
  name: string;
}

/**
 * `source`: something whose content or credentials the referrer uses (a GitRepository, an
 * ImageRepository); `status`: something whose status the referrer only reads (dependsOn).
 */
export type ReferenceUse = "source" | "status";

/** As whom a tenant's objects are written; undefined `user` means the controller's own identity. */
export interface ApplyIdentity {
  user?: string;
  /** Where the identity came from, for messages. */
  origin: "spec.serviceAccountName" | "--default-service-account" | "controller";
}

export const serviceAccountUser = (namespace: string, name: string) => `system:serviceaccount:${namespace}:${name}`;

export class Tenancy {
  constructor(readonly options: TenancyOptions = {}) {}

  /** A flag combination worth a warning at start-up, or undefined. */
  startupWarning(): string | undefined {
    if (this.options.noCrossNamespaceRefs && this.options.allowCrossNamespaceSources) {
      return "--no-cross-namespace-refs refuses every cross-namespace reference, so --allow-cross-namespace-sources has no effect";
    }
    return undefined;
  }

  /**
   * Why `from` may not follow its reference `field` to `to`, or undefined when it may. The
   * message names the field, both objects and the fix; it goes into Ready (reason AccessDenied).
   */
  refuseReference(from: NamespacedName, field: string, to: NamespacedName, use: ReferenceUse): string | undefined {
    if (to.namespace === from.namespace) return undefined;
    const target = `${to.kind} ${to.namespace}/${to.name}`;
    if (this.options.noCrossNamespaceRefs) {
      return `cross-namespace references are refused on this controller (--no-cross-namespace-refs): ${field} of ${from.kind} ${from.namespace}/${from.name} names ${target}; use a ${to.kind} of namespace ${from.namespace}`;
    }
    if (use === "source" && !this.options.allowCrossNamespaceSources) {
      return `cross-namespace source references are not allowed on this controller: ${field} names ${target}; move it into ${from.namespace}, or start the controller with --allow-cross-namespace-sources`;
    }
    return undefined;
  }

  /**
   * As whom an Application of `namespace` applies: its own ServiceAccount, else the default
   * one, else the controller itself (which, installed with least privilege, may not write
   * tenants' objects; see forbiddenHint).
   */
  applyIdentity(namespace: string, serviceAccountName: string | undefined): ApplyIdentity {
    if (serviceAccountName) return { user: serviceAccountUser(namespace, serviceAccountName), origin: "spec.serviceAccountName" };
    if (this.options.defaultServiceAccount) return { user: serviceAccountUser(namespace, this.options.defaultServiceAccount), origin: "--default-service-account" };
    return { origin: "controller" };
  }

  /**
   * What to add to an error the API server answered with 403 while writing a tenant's objects:
   * how to fix it for the identity used. Undefined when the message is not about RBAC.
   */
  forbiddenHint(namespace: string, identity: ApplyIdentity, message: string): string | undefined {
    if (/cannot impersonate/i.test(message)) {
      return `the controller may not impersonate ServiceAccounts of namespace ${namespace}: bind the ClusterRole fjord-impersonator to the controller's ServiceAccount in ${namespace} (\`fjord tenant create ${namespace}\` does)`;
    }
    // RBAC's refusal names the user ("is forbidden: User ... cannot ..."); an admission policy or
    // webhook denial is a 403 too, but no ServiceAccount change fixes it.
    if (!/\bforbidden: User "[^"]*" cannot /i.test(message)) return undefined;
    if (identity.origin === "controller") {
      return (
        `the Application has no serviceAccountName, so fjord applied it with its own identity, which may not write tenants' objects: ` +
        `set spec.serviceAccountName to a ServiceAccount of ${namespace} allowed to apply them (\`fjord tenant create ${namespace}\` makes one named fjord), ` +
        `or start the controller with --default-service-account=<name>`
      );
    }
    const account = identity.user?.split(":").at(-1) ?? "";
    return `${identity.origin === "--default-service-account" ? "the default ServiceAccount" : "the ServiceAccount"} ${namespace}/${account} may not do this: grant it what the Application applies (a RoleBinding in ${namespace}; \`fjord tenant create ${namespace} --service-account ${account}\` binds admin there)`;
  }
}
