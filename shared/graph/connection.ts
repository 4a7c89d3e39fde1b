import { ClientCertificateCredential, ClientSecretCredential, type TokenCredential } from '@azure/identity';
import { AuthenticationHandler, Client, HTTPMessageHandler, type Middleware } from '@microsoft/microsoft-graph-client';
import { TokenCredentialAuthenticationProvider } from '@microsoft/microsoft-graph-client/authProviders/azureTokenCredentials';
import { BackupError } from '../errors';
import { OUTLOOK_BUDGET, TenantGates, type MailboxBudget, type RequestGates } from './gates';
import type { WindowLimit } from './budgetRules';
import { DEFAULT_RETRY, ThrottlingMiddleware, type RetryPolicy } from './throttlingMiddleware';

/** App-only credentials of one tenant's app registration. Secrets live here only in memory. */
export interface TenantCredentials {
  /** The tenant's display name in this product (used in error messages). */
  name: string;
  tenantId: string;
  clientId: string;
  clientSecret?: string;
  /** PEM with the certificate and its private key. */
  certificatePem?: string;
}

export interface GraphEndpoints {
  /** "https://graph.microsoft.com/v1.0" or a compatible endpoint (the simulator). */
  graphBaseUrl: string;
  /** "https://login.microsoftonline.com" or a compatible identity host. */
  authorityHost: string;
}

export interface GraphConnectionOptions {
  mailboxBudget?: MailboxBudget;
  tenantConcurrency?: number;
  /** A tenant-wide request budget for this app (none by default). */
  tenantRate?: WindowLimit;
  /**
   * The tenant's budgets when they are shared with other processes (`SharedTenantGates`, built
   * where a repository is at hand: shared/app/services.ts); otherwise in-memory `TenantGates`.
   */
  gates?: RequestGates;
  retry?: RetryPolicy;
}

const MICROSOFT_AUTHORITIES = ['login.microsoftonline.com', 'login.microsoftonline.us', 'login.chinacloudapi.cn', 'login.partner.microsoftonline.cn'];

/** One tenant's Graph client, request gates and credential. */
export class GraphConnection {
  readonly client: Client;
  readonly gates: RequestGates;
  readonly credential: TokenCredential;
  readonly retry: RetryPolicy;

  constructor(
    readonly tenant: TenantCredentials,
    readonly endpoints: GraphEndpoints,
    options: GraphConnectionOptions = {},
  ) {
    const authority = new URL(endpoints.authorityHost);
    const identityOptions = {
      authorityHost: endpoints.authorityHost,
      // Instance discovery asks Microsoft's public cloud whether the authority is trusted: only useful for Microsoft's own hosts.
      disableInstanceDiscovery: !MICROSOFT_AUTHORITIES.includes(authority.hostname),
    };
    if (tenant.clientSecret) this.credential = new ClientSecretCredential(tenant.tenantId, tenant.clientId, tenant.clientSecret, identityOptions);
    else if (tenant.certificatePem) this.credential = new ClientCertificateCredential(tenant.tenantId, tenant.clientId, { certificate: tenant.certificatePem }, identityOptions);
    else throw new BackupError('USAGE', `Tenant "${tenant.name}" has neither a client secret nor a certificate.`);

    this.gates = options.gates ?? new TenantGates(options.mailboxBudget ?? OUTLOOK_BUDGET, options.tenantConcurrency ?? 16, options.tenantRate);
    this.retry = options.retry ?? DEFAULT_RETRY;
    const graph = new URL(endpoints.graphBaseUrl);
    const auth = new AuthenticationHandler(new TokenCredentialAuthenticationProvider(this.credential, { scopes: [`${graph.hostname.endsWith('microsoft.com') ? graph.origin : 'https://graph.microsoft.com'}/.default`] }));
    const throttling = new ThrottlingMiddleware(this.gates, this.retry);
    const send = new HTTPMessageHandler();
    auth.setNext(throttling);
    throttling.setNext(send);
    this.client = Client.initWithMiddleware({
      middleware: auth as Middleware,
      baseUrl: endpoints.graphBaseUrl,
      defaultVersion: '',
      // The SDK attaches tokens only to Microsoft's Graph hosts and these (hostname, no port).
      customHosts: new Set([graph.hostname]),
    });
  }

  /** Resolves a relative Graph path or an absolute next/delta link against the endpoint. */
  url(pathOrLink: string): string {
    return /^https:\/\//.test(pathOrLink) ? pathOrLink : `${this.endpoints.graphBaseUrl}${pathOrLink.startsWith('/') ? '' : '/'}${pathOrLink}`;
  }
}
