/**
 * The emulator's errors in Azure's shapes, with the constructors for the errors the recordings show. A module of its
 * own, importing nothing, so that every part of the emulator (faults, quotas, outcomes, shapes) can throw them.
 */
/** An error answered in Azure's shape: data plane `{error:{code,message,param?}}`, ARM `{error:{code,message,target?}}`. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** Data plane: the offending request field. ARM: the error target. */
    readonly param?: string,
    readonly headers: Record<string, string> = {},
    /** Answered by Azure's gateway before the service (no `x-ms-region`, `application/json` without charset). */
    readonly gateway = false,
  ) {
    super(message);
  }
}

/**
 * A chat-completion request the model service refuses, answered in the OpenAI shape the live service sends there
 * (`type: invalid_request_error`, `code: null`; openai/openai-python#1724, api-version 2024-08-01-preview:
 * "Unrecognized request argument supplied: max_completion_tokens"). `param` names the field, or is null.
 */
export class InvalidRequestError extends ApiError {
  constructor(
    message: string,
    readonly field: string | null,
  ) {
    super(400, 'invalid_request_error', message);
  }
}

/** The recordings' data-plane error: `param` only when there is one, no `type`. */
export function dataPlaneErrorBody(err: ApiError): unknown {
  if (err instanceof InvalidRequestError) return { error: { message: err.message, type: 'invalid_request_error', param: err.field, code: null } };
  return { error: err.param ? { code: err.code, message: err.message, param: err.param } : { code: err.code, message: err.message } };
}

export function armErrorBody(err: ApiError): unknown {
  return { error: err.param ? { code: err.code, message: err.message, target: err.param } : { code: err.code, message: err.message } };
}

/**
 * Azure's gateway 404, recorded for a path it does not route (net-aoai CreateCancelDelete) and answered, by every
 * report of it, for a missing or unsupported api-version: `{"error":{"code":"404","message":"Resource not found"}}`.
 */
export const resourceNotFound = (): ApiError => new ApiError(404, '404', 'Resource not found', undefined, {}, true);

/** Azure's data-plane 401 (its code really is the string "401"). */
export function unauthorizedDataPlane(): ApiError {
  return new ApiError(
    401,
    '401',
    'Access denied due to invalid subscription key or wrong API endpoint. Make sure to provide a valid key for an active subscription and use a correct regional API endpoint for your resource.',
  );
}

/**
 * ARM's 404 for an account path that names no account, as live answers word it: an unknown subscription
 * `SubscriptionNotFound` (as Models_List answers, capacity.ts), an unknown resource group `ResourceGroupNotFound`
 * ("Resource group 'rg-ai-in-a-box-cj' could not be found.", Azure/AI-in-a-Box#27), else `ResourceNotFound` ("The
 * Resource 'Microsoft.CognitiveServices/accounts/ai-testing3-resource' under resource group 'for-ai-testing' was not
 * found. For more details please go to https://aka.ms/ARMResourceNotFoundFix", microsoft/foundry-dev-tools#512,
 * Azure-Samples/azure-search-openai-demo#80). `accounts`: every account the emulator serves.
 */
export function armAccountNotFound(accounts: Iterable<{ subscriptionId: string; resourceGroup: string }>, subscriptionId: string, resourceGroup: string, accountName: string): ApiError {
  const known = [...accounts];
  const inSubscription = known.filter((a) => a.subscriptionId.toLowerCase() === subscriptionId.toLowerCase());
  if (inSubscription.length === 0) return new ApiError(404, 'SubscriptionNotFound', `The subscription '${subscriptionId}' could not be found.`);
  if (!inSubscription.some((a) => a.resourceGroup.toLowerCase() === resourceGroup.toLowerCase())) {
    return new ApiError(404, 'ResourceGroupNotFound', `Resource group '${resourceGroup}' could not be found.`);
  }
  return new ApiError(
    404,
    'ResourceNotFound',
    `The Resource 'Microsoft.CognitiveServices/accounts/${accountName}' under resource group '${resourceGroup}' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix`,
  );
}

export function unauthorizedArm(missing: boolean): ApiError {
  return missing
    ? new ApiError(401, 'AuthenticationFailed', "Authentication failed. The 'Authorization' header is missing.")
    : new ApiError(401, 'InvalidAuthenticationToken', 'The access token is invalid.');
}

/** The data plane's code for a failure of the service itself (the dated spec's `ErrorCode` enum; no recording shows one). */
export const INTERNAL_FAILURE = 'internalFailure';

export const invalidPayload = (message: string, param?: string): ApiError => new ApiError(400, 'invalidPayload', message, param);
/** The recordings' 404 for a job or file id: code `notFound`, "The specified entity cannot be found." */
export const notFound = (message = 'The specified entity cannot be found.'): ApiError => new ApiError(404, 'notFound', message);
/** Invalid-state errors are 400, not 409: the openai SDK retries 409, and a state error is not transient. */
export const unexpectedEntityState = (message: string): ApiError => new ApiError(400, 'unexpectedEntityState', message);
