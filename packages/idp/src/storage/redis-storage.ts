import type { RedisConfig } from '../contracts.js';
import type { CreateStorageOptions, KysoIdpStorage } from './create-storage.js';
import { IdpError } from './errors.js';

export async function createRedisStorage(_cfg: RedisConfig | string, _opts: CreateStorageOptions): Promise<KysoIdpStorage> {
  throw new IdpError('IDP_STORAGE_CONFIG', 'Redis storage is not available yet');
}
