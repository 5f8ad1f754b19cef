// Generated from src/tl/schema/cocoon_api.tl and cocoon_ext.tl by `npm run tl:gen`. Do not edit: a test fails when this file is stale.

/** A bare field's value: the constructor is implied by the type, so `_` may be left out on input. */
export type Bare<T extends { _: string }> = Omit<T, '_'> & { _?: T['_'] };

/** Every constructor of the schema, by name. */
export interface TlConstructors {
  'tcp.ping': { _: 'tcp.ping'; id: bigint };
  'tcp.pong': { _: 'tcp.pong'; id: bigint };
  'tcp.packet': { _: 'tcp.packet'; data: Uint8Array };
  'tcp.queryAnswer': { _: 'tcp.queryAnswer'; id: bigint; data: Uint8Array };
  'tcp.queryError': { _: 'tcp.queryError'; id: bigint; code: number; message: string };
  'tcp.query': { _: 'tcp.query'; id: bigint; data: Uint8Array };
  'tcp.connected': { _: 'tcp.connected'; id: bigint };
  'tcp.connect': { _: 'tcp.connect'; id: bigint };
  'ton.blockIdExt': { _: 'ton.blockIdExt'; workchain: number; shard: bigint; seqno: number; root_hash: Uint8Array; file_hash: Uint8Array };
  'test.answer': { _: 'test.answer'; id: bigint };
  'proxyRunner.config': { _: 'proxyRunner.config'; is_test: boolean; is_testnet: boolean; workers_rpc_port: number; client_rpc_port: number; http_port: number; owner_address: string; root_contract_address: string; machine_specific_private_key: Uint8Array; node_wallet_key: Uint8Array; ton_config_filename: string; db_path: string; check_worker_hashes: boolean; image_hash: Uint8Array; http_access_hash: string };
  'workerRunner.config': { _: 'workerRunner.config'; is_test: boolean; is_testnet: boolean; http_port: number; owner_address: string; proxy_connections: number; connect_to_proxy_via: string; model_name: string; coefficient: number; root_contract_address: string; node_wallet_key: Uint8Array; forward_requests_to: string; ton_config_filename: string; check_proxy_hashes: boolean; max_active_requests: number; image_hash: Uint8Array; http_access_hash: string };
  'clientRunner.config': { _: 'clientRunner.config'; is_test: boolean; is_testnet: boolean; http_port: number; owner_address: string; proxy_connections: number; connect_to_proxy_via: string; root_contract_address: string; node_wallet_key: Uint8Array; check_proxy_hashes: boolean; secret_string: string; ton_config_filename: string; http_access_hash: string };
  'keyStorageRunner.config': { _: 'keyStorageRunner.config'; is_test: boolean; is_testnet: boolean; rpc_port: number; http_port: number; root_contract_address: string; machine_specific_private_key: Uint8Array; ton_config_filename: string; db_path: string; check_hashes: boolean; image_hash: Uint8Array; http_access_hash: string };
  'rootConfig.registeredProxy': { _: 'rootConfig.registeredProxy'; seqno: number; address: string };
  'rootConfig.pseudo': { _: 'rootConfig.pseudo'; proxy_hashes: Array<Uint8Array>; worker_hashes: Array<Uint8Array>; model_hashes: Array<Uint8Array>; model_types: Array<string>; registered_proxies: Array<Bare<TlConstructors['rootConfig.registeredProxy']>>; price_per_token: number; worker_fee_per_token: number; last_proxy_seqno: number; version: number; params_version: number; proxy_sc_code: string; worker_sc_code: string; client_sc_code: string; root_owner_address: string };
  'rootConfig.configV5': { _: 'rootConfig.configV5'; root_owner_address: string; proxy_hashes: Array<Uint8Array>; registered_proxies: Array<Bare<TlConstructors['rootConfig.registeredProxy']>>; last_proxy_seqno: number; worker_hashes: Array<Uint8Array>; model_hashes: Array<Uint8Array>; version: number; struct_version: number; params_version: number; unique_id: number; is_test: number; price_per_token: bigint; worker_fee_per_token: bigint; prompt_tokens_price_multiplier: number; cached_tokens_price_multiplier: number; completion_tokens_price_multiplier: number; reasoning_tokens_price_multiplier: number; proxy_delay_before_close: number; client_delay_before_close: number; min_proxy_stake: bigint; min_client_stake: bigint; proxy_sc_code: string; worker_sc_code: string; client_sc_code: string };
  'proxyDb.clientInfo': { _: 'proxyDb.clientInfo'; owner_address: string; sc_address: string; status: number; balance: bigint; sc_tokens_used: bigint; tokens_used: bigint; secret_hash: Uint8Array; last_request_at: number };
  'proxyDb.clientInfoV2': { _: 'proxyDb.clientInfoV2'; owner_address: string; sc_address: string; status: number; balance: bigint; stake: bigint; sc_tokens_used: bigint; tokens_used: bigint; secret_hash: Uint8Array; last_request_at: number };
  'proxyDb.workerInfo': { _: 'proxyDb.workerInfo'; owner_address: string; sc_address: string; sc_tokens: bigint; tokens: bigint; last_request_at: number };
  'proxyDb.pendingBlockchainSeqnoCommit': { _: 'proxyDb.pendingBlockchainSeqnoCommit'; seqno: number; session_hash: Uint8Array };
  'proxyDb.configEmpty': { _: 'proxyDb.configEmpty' };
  'proxyDb.configV4': { _: 'proxyDb.configV4'; root_contract_address: string; is_testnet: number; root_contract_state: TlTypes['rootConfig.Config']; root_contract_state_block_ts: number; sc_block_id: Bare<TlConstructors['ton.blockIdExt']>; last_seqno_committed_to_blockchain: number; pending_blockchain_seqno_commits: Array<Bare<TlConstructors['proxyDb.pendingBlockchainSeqnoCommit']>> };
  'proxyDb.configV4Disabled': { _: 'proxyDb.configV4Disabled'; root_contract_address: string; is_testnet: number; root_contract_state: TlTypes['rootConfig.Config']; root_contract_state_block_ts: number; disabled_until_version: bigint };
  'proxyDb.oldClient': { _: 'proxyDb.oldClient'; owner_address: string; tokens: bigint; next_client: string };
  'proxyDb.oldWorker': { _: 'proxyDb.oldWorker'; owner_address: string; tokens: bigint; next_worker: string };
  'proxyDb.oldInstance': { _: 'proxyDb.oldInstance'; contract_address: string; closing_state: number; close_at: number; next_client: string; next_worker: string; root_contract_state: TlTypes['rootConfig.Config'] };
  'keyManagerDb.configEmpty': { _: 'keyManagerDb.configEmpty' };
  'keyManagerDb.configV1': { _: 'keyManagerDb.configV1'; root_contract_version: number };
  'keyManagerDb.key': { _: 'keyManagerDb.key'; private_key: Uint8Array; for_proxies: boolean; for_workers: boolean; valid_since_config_version: number; valid_since_utime: number; valid_until_utime: number };
  'tokensUsed': { _: 'tokensUsed'; prompt_tokens_used: bigint; cached_tokens_used: bigint; completion_tokens_used: bigint; reasoning_tokens_used: bigint; total_tokens_used: bigint };
  'worker.params': { _: 'worker.params'; flags: number; worker_owner_address: string; model: string; coefficient: number; is_test?: boolean; proxy_cnt?: number; max_active_requests?: number; min_proto_version?: number; max_proto_version?: number };
  'proxy.params': { _: 'proxy.params'; flags: number; proxy_public_key: Uint8Array; proxy_owner_address: string; proxy_sc_address: string; is_test?: boolean; proto_version?: number };
  'client.params': { _: 'client.params'; flags: number; client_owner_address: string; is_test?: boolean; min_proto_version?: number; max_proto_version?: number };
  'client.proxyConnectionAuthShort': { _: 'client.proxyConnectionAuthShort'; secret_hash: Uint8Array; nonce: bigint };
  'client.proxyConnectionAuthLong': { _: 'client.proxyConnectionAuthLong'; nonce: bigint };
  'client.authorizationWithProxySuccess': { _: 'client.authorizationWithProxySuccess'; signed_payment: TlTypes['proxy.SignedPayment']; tokens_committed_to_db: bigint; max_tokens: bigint };
  'client.authorizationWithProxyFailed': { _: 'client.authorizationWithProxyFailed'; error_code: number; error: string };
  'client.connectedToProxy': { _: 'client.connectedToProxy'; params: Bare<TlConstructors['proxy.params']>; client_sc_address: string; auth: TlTypes['client.ProxyConnectionAuth']; signed_payment: TlTypes['proxy.SignedPayment'] };
  'client.queryAnswer': { _: 'client.queryAnswer'; answer: Uint8Array; is_completed: boolean; request_id: Uint8Array; request_tokens_used: Bare<TlConstructors['tokensUsed']> };
  'client.queryAnswerError': { _: 'client.queryAnswerError'; error_code: number; error: string; request_id: Uint8Array; request_tokens_used: Bare<TlConstructors['tokensUsed']> };
  'client.queryAnswerPart': { _: 'client.queryAnswerPart'; answer: Uint8Array; is_completed: boolean; request_id: Uint8Array; request_tokens_used: Bare<TlConstructors['tokensUsed']> };
  'client.queryAnswerPartError': { _: 'client.queryAnswerPartError'; error_code: number; error: string; request_id: Uint8Array; request_tokens_used: Bare<TlConstructors['tokensUsed']> };
  'client.queryFinalInfo': { _: 'client.queryFinalInfo'; flags: number; tokens_used: Bare<TlConstructors['tokensUsed']>; worker_debug?: string; proxy_debug?: string; proxy_start_time?: number; proxy_end_time?: number; worker_start_time?: number; worker_end_time?: number };
  'client.queryAnswerEx': { _: 'client.queryAnswerEx'; request_id: Uint8Array; answer: Uint8Array; flags: number; final_info?: Bare<TlConstructors['client.queryFinalInfo']> };
  'client.queryAnswerErrorEx': { _: 'client.queryAnswerErrorEx'; request_id: Uint8Array; error_code: number; error: string; flags: number; final_info?: Bare<TlConstructors['client.queryFinalInfo']> };
  'client.queryAnswerPartEx': { _: 'client.queryAnswerPartEx'; request_id: Uint8Array; answer: Uint8Array; flags: number; final_info?: Bare<TlConstructors['client.queryFinalInfo']> };
  'client.refund': { _: 'client.refund'; data: Uint8Array };
  'client.refundRejected': { _: 'client.refundRejected'; active_queries: bigint };
  'client.workerType': { _: 'client.workerType'; name: string; active_workers: number; coefficient_min: number; coefficient_bucket50: number; coefficient_max: number };
  'client.workerTypes': { _: 'client.workerTypes'; types: Array<Bare<TlConstructors['client.workerType']>> };
  'client.workerInstanceV2': { _: 'client.workerInstanceV2'; flags: number; coefficient: number; active_requests: number; max_active_requests: number };
  'client.workerTypeV2': { _: 'client.workerTypeV2'; name: string; workers: Array<Bare<TlConstructors['client.workerInstanceV2']>> };
  'client.workerTypesV2': { _: 'client.workerTypesV2'; types: Array<Bare<TlConstructors['client.workerTypeV2']>> };
  'client.paymentStatus': { _: 'client.paymentStatus'; signed_payment: TlTypes['proxy.SignedPayment']; db_tokens: bigint; max_tokens: bigint };
  'proxy.clientRequestPayment': { _: 'proxy.clientRequestPayment'; request_id: Uint8Array; signed_payment: TlTypes['proxy.SignedPayment']; db_tokens: bigint; max_tokens: bigint; request_tokens: bigint };
  'proxy.signedPayment': { _: 'proxy.signedPayment'; data: Uint8Array };
  'proxy.signedPaymentEmpty': { _: 'proxy.signedPaymentEmpty' };
  'proxy.queryAnswer': { _: 'proxy.queryAnswer'; answer: Uint8Array; is_completed: boolean; request_id: Uint8Array; tokens_used: Bare<TlConstructors['tokensUsed']> };
  'proxy.queryAnswerError': { _: 'proxy.queryAnswerError'; error_code: number; error: string; request_id: Uint8Array; tokens_used: Bare<TlConstructors['tokensUsed']> };
  'proxy.queryAnswerPart': { _: 'proxy.queryAnswerPart'; answer: Uint8Array; is_completed: boolean; request_id: Uint8Array; tokens_used: Bare<TlConstructors['tokensUsed']> };
  'proxy.queryAnswerPartError': { _: 'proxy.queryAnswerPartError'; error_code: number; error: string; request_id: Uint8Array; tokens_used: Bare<TlConstructors['tokensUsed']> };
  'proxy.queryFinalInfo': { _: 'proxy.queryFinalInfo'; flags: number; tokens_used: Bare<TlConstructors['tokensUsed']>; worker_debug?: string; worker_start_time?: number; worker_end_time?: number };
  'proxy.queryAnswerEx': { _: 'proxy.queryAnswerEx'; request_id: Uint8Array; answer: Uint8Array; flags: number; final_info?: Bare<TlConstructors['proxy.queryFinalInfo']> };
  'proxy.queryAnswerErrorEx': { _: 'proxy.queryAnswerErrorEx'; request_id: Uint8Array; error_code: number; error: string; flags: number; final_info?: Bare<TlConstructors['proxy.queryFinalInfo']> };
  'proxy.queryAnswerPartEx': { _: 'proxy.queryAnswerPartEx'; request_id: Uint8Array; answer: Uint8Array; flags: number; final_info?: Bare<TlConstructors['proxy.queryFinalInfo']> };
  'proxy.workerRequestPayment': { _: 'proxy.workerRequestPayment'; request_id: Uint8Array; signed_payment: TlTypes['proxy.SignedPayment']; db_tokens: bigint; max_tokens: bigint; request_tokens: bigint; request_client_owner: string };
  'worker.enabledDisabled': { _: 'worker.enabledDisabled'; disabled: number };
  'worker.newCoefficient': { _: 'worker.newCoefficient'; new_coefficient: number };
  'worker.connectedToProxy': { _: 'worker.connectedToProxy'; params: Bare<TlConstructors['proxy.params']>; worker_sc_address: string };
  'worker.compareBalanceWithProxyResult': { _: 'worker.compareBalanceWithProxyResult'; signed_payment: TlTypes['proxy.SignedPayment']; tokens_committed_to_db: bigint; max_tokens: bigint; error_code: number };
  'worker.extendedCompareBalanceWithProxyResult': { _: 'worker.extendedCompareBalanceWithProxyResult'; error_code: number };
  'worker.proxyHandshakeCompleted': { _: 'worker.proxyHandshakeCompleted' };
  'worker.paymentStatus': { _: 'worker.paymentStatus'; signed_payment: TlTypes['proxy.SignedPayment']; db_tokens: bigint; max_tokens: bigint };
  'keyManager.privateKey': { _: 'keyManager.privateKey'; valid_until_utime: number; private_key: Uint8Array };
  'keyManager.privateKeys': { _: 'keyManager.privateKeys'; keys: Array<Bare<TlConstructors['keyManager.privateKey']>> };
  'http.header': { _: 'http.header'; name: string; value: string };
  'http.response': { _: 'http.response'; http_version: string; status_code: number; reason: string; headers: Array<Bare<TlConstructors['http.header']>>; payload: Uint8Array };
  'ext.sealRecipient': { _: 'ext.sealRecipient'; worker_key: Uint8Array; enc: Uint8Array; sealed_key: Uint8Array };
  'ext.sealedQuery': { _: 'ext.sealedQuery'; suite: number; model: string; max_tokens: number; recipients: Array<Bare<TlConstructors['ext.sealRecipient']>>; nonce: Uint8Array; ciphertext: Uint8Array };
  'ext.sealedQueryHeader': { _: 'ext.sealedQueryHeader'; suite: number; model: string; max_tokens: number; worker_keys: Array<Uint8Array>; nonce: Uint8Array };
  'ext.sealedAnswerHead': { _: 'ext.sealedAnswerHead'; worker_key: Uint8Array; answer_nonce: Uint8Array; data: Uint8Array };
  'ext.workerInfo': { _: 'ext.workerInfo'; worker_key: Uint8Array; model: string; coefficient: number; active_requests: number; max_active_requests: number; certificate: Uint8Array };
  'ext.workers': { _: 'ext.workers'; workers: Array<Bare<TlConstructors['ext.workerInfo']>> };
  'ext.receiptBody': { _: 'ext.receiptBody'; model: string; worker_key: Uint8Array; image_hash: Uint8Array; sealed: boolean; request_hash: Uint8Array; status: number; answer_hash: Uint8Array; answer_chunks: number; prompt_tokens: bigint; cached_tokens: bigint; completion_tokens: bigint; reasoning_tokens: bigint; total_tokens: bigint; coefficient: number; price_per_token: bigint; config_version: number; time: number };
  'ext.workerReceipt': { _: 'ext.workerReceipt'; request_id: Uint8Array; body: TlTypes['ext.ReceiptBody']; signature: Uint8Array };
  'ext.receiptCharge': { _: 'ext.receiptCharge'; receipt_hash: Uint8Array; client_sc_address: string; charged_tokens: bigint; charged_nanoton: bigint; client_total_tokens: bigint };
  'ext.receipt': { _: 'ext.receipt'; body: TlTypes['ext.ReceiptBody']; worker_signature: Uint8Array; worker_certificate: Uint8Array; charge: TlTypes['ext.ReceiptCharge']; proxy_key: Uint8Array; proxy_signature: Uint8Array };
  'ext.clientReceipt': { _: 'ext.clientReceipt'; request_id: Uint8Array; receipt: TlTypes['ext.Receipt'] };
  'ext.workerCertificate': { _: 'ext.workerCertificate'; certificate: Uint8Array };
  'ext.evidence': { _: 'ext.evidence'; public_key: Uint8Array; certificate: Uint8Array; quote: Uint8Array };
  'ext.attestation': { _: 'ext.attestation'; proxy: TlTypes['ext.Evidence']; workers: Array<TlTypes['ext.Evidence']> };
}

/** Every function (query) of the schema, by name. */
export interface TlFunctions {
  'test.query': { _: 'test.query'; id: bigint };
  'client.connectToProxy': { _: 'client.connectToProxy'; params: Bare<TlConstructors['client.params']>; min_config_version: number };
  'client.authorizeWithProxyShort': { _: 'client.authorizeWithProxyShort'; data: Uint8Array };
  'client.authorizeWithProxyLong': { _: 'client.authorizeWithProxyLong' };
  'client.runQuery': { _: 'client.runQuery'; model_name: string; query: Uint8Array; max_coefficient: number; max_tokens: number; timeout: number; request_id: Uint8Array; min_config_version: number };
  'client.runQueryEx': { _: 'client.runQueryEx'; model_name: string; query: Uint8Array; max_coefficient: number; max_tokens: number; timeout: number; request_id: Uint8Array; min_config_version: number; flags: number; enable_debug?: boolean };
  'client.requestRefund': { _: 'client.requestRefund' };
  'client.updatePaymentStatus': { _: 'client.updatePaymentStatus' };
  'client.getWorkerTypes': { _: 'client.getWorkerTypes' };
  'client.getWorkerTypesV2': { _: 'client.getWorkerTypesV2' };
  'proxy.runQuery': { _: 'proxy.runQuery'; query: Uint8Array; signed_payment: TlTypes['proxy.SignedPayment']; coefficient: bigint; timeout: number; request_id: Uint8Array };
  'proxy.runQueryEx': { _: 'proxy.runQueryEx'; query: Uint8Array; signed_payment: TlTypes['proxy.SignedPayment']; coefficient: bigint; timeout: number; request_id: Uint8Array; flags: number; enable_debug?: boolean };
  'worker.connectToProxy': { _: 'worker.connectToProxy'; params: Bare<TlConstructors['worker.params']> };
  'worker.compareBalanceWithProxy': { _: 'worker.compareBalanceWithProxy'; tokens_committed_to_blockchain: bigint; tokens_committed_to_db: bigint; max_tokens: bigint };
  'worker.extendedCompareBalanceWithProxy': { _: 'worker.extendedCompareBalanceWithProxy'; tokens_committed_to_db: bigint; other: Uint8Array };
  'worker.proxyHandshakeComplete': { _: 'worker.proxyHandshakeComplete'; is_disabled: boolean };
  'worker.updatePaymentStatus': { _: 'worker.updatePaymentStatus' };
  'keyManager.getWorkerPrivateKeys': { _: 'keyManager.getWorkerPrivateKeys'; min_config_version: number };
  'keyManager.getProxyPrivateKeys': { _: 'keyManager.getProxyPrivateKeys'; min_config_version: number };
  'http.request': { _: 'http.request'; method: string; url: string; http_version: string; headers: Array<Bare<TlConstructors['http.header']>>; payload: Uint8Array };
  'ext.getWorkers': { _: 'ext.getWorkers'; model: string };
  'ext.getAttestation': { _: 'ext.getAttestation'; nonce: Uint8Array; model: string };
  'ext.attest': { _: 'ext.attest'; nonce: Uint8Array };
}

/** Every boxed type: the union of its constructors. */
export interface TlTypes {
  'tcp.Packet': TlConstructors['tcp.ping'] | TlConstructors['tcp.pong'] | TlConstructors['tcp.packet'] | TlConstructors['tcp.queryAnswer'] | TlConstructors['tcp.queryError'] | TlConstructors['tcp.query'] | TlConstructors['tcp.connected'] | TlConstructors['tcp.connect'];
  'ton.BlockIdExt': TlConstructors['ton.blockIdExt'];
  'test.Answer': TlConstructors['test.answer'];
  'proxyRunner.Config': TlConstructors['proxyRunner.config'];
  'workerRunner.Config': TlConstructors['workerRunner.config'];
  'clientRunner.Config': TlConstructors['clientRunner.config'];
  'keyStorageRunner.Config': TlConstructors['keyStorageRunner.config'];
  'rootConfig.RegisteredProxy': TlConstructors['rootConfig.registeredProxy'];
  'rootConfig.Config': TlConstructors['rootConfig.pseudo'] | TlConstructors['rootConfig.configV5'];
  'proxyDb.ClientInfo': TlConstructors['proxyDb.clientInfo'] | TlConstructors['proxyDb.clientInfoV2'];
  'proxyDb.WorkerInfo': TlConstructors['proxyDb.workerInfo'];
  'proxyDb.PendingBlockchainSeqnoCommit': TlConstructors['proxyDb.pendingBlockchainSeqnoCommit'];
  'proxyDb.Config': TlConstructors['proxyDb.configEmpty'] | TlConstructors['proxyDb.configV4'] | TlConstructors['proxyDb.configV4Disabled'];
  'proxyDb.OldClient': TlConstructors['proxyDb.oldClient'];
  'proxyDb.OldWorker': TlConstructors['proxyDb.oldWorker'];
  'proxyDb.OldInstance': TlConstructors['proxyDb.oldInstance'];
  'keyManagerDb.Config': TlConstructors['keyManagerDb.configEmpty'] | TlConstructors['keyManagerDb.configV1'];
  'keyManagerDb.Key': TlConstructors['keyManagerDb.key'];
  'TokensUsed': TlConstructors['tokensUsed'];
  'worker.Params': TlConstructors['worker.params'];
  'proxy.Params': TlConstructors['proxy.params'];
  'client.Params': TlConstructors['client.params'];
  'client.ProxyConnectionAuth': TlConstructors['client.proxyConnectionAuthShort'] | TlConstructors['client.proxyConnectionAuthLong'];
  'client.AuthorizationWithProxy': TlConstructors['client.authorizationWithProxySuccess'] | TlConstructors['client.authorizationWithProxyFailed'];
  'client.ConnectedToProxy': TlConstructors['client.connectedToProxy'];
  'client.QueryAnswer': TlConstructors['client.queryAnswer'] | TlConstructors['client.queryAnswerError'];
  'client.QueryAnswerPart': TlConstructors['client.queryAnswerPart'] | TlConstructors['client.queryAnswerPartError'];
  'client.QueryFinalInfo': TlConstructors['client.queryFinalInfo'];
  'client.QueryAnswerEx': TlConstructors['client.queryAnswerEx'] | TlConstructors['client.queryAnswerErrorEx'] | TlConstructors['client.queryAnswerPartEx'];
  'client.Refund': TlConstructors['client.refund'] | TlConstructors['client.refundRejected'];
  'client.WorkerType': TlConstructors['client.workerType'];
  'client.WorkerTypes': TlConstructors['client.workerTypes'];
  'client.WorkerInstanceV2': TlConstructors['client.workerInstanceV2'];
  'client.WorkerTypeV2': TlConstructors['client.workerTypeV2'];
  'client.WorkerTypesV2': TlConstructors['client.workerTypesV2'];
  'client.PaymentStatus': TlConstructors['client.paymentStatus'];
  'proxy.WorkerRequestPayment': TlConstructors['proxy.clientRequestPayment'] | TlConstructors['proxy.workerRequestPayment'];
  'proxy.SignedPayment': TlConstructors['proxy.signedPayment'] | TlConstructors['proxy.signedPaymentEmpty'];
  'proxy.QueryAnswer': TlConstructors['proxy.queryAnswer'] | TlConstructors['proxy.queryAnswerError'];
  'proxy.QueryAnswerPart': TlConstructors['proxy.queryAnswerPart'] | TlConstructors['proxy.queryAnswerPartError'];
  'proxy.QueryFinalInfo': TlConstructors['proxy.queryFinalInfo'];
  'proxy.QueryAnswerEx': TlConstructors['proxy.queryAnswerEx'] | TlConstructors['proxy.queryAnswerErrorEx'] | TlConstructors['proxy.queryAnswerPartEx'];
  'worker.EnabledDisabled': TlConstructors['worker.enabledDisabled'];
  'worker.NewCoefficient': TlConstructors['worker.newCoefficient'];
  'worker.ConnectedToProxy': TlConstructors['worker.connectedToProxy'];
  'worker.CompareBalanceWithProxyResult': TlConstructors['worker.compareBalanceWithProxyResult'];
  'worker.ExtendedCompareBalanceWithProxyResult': TlConstructors['worker.extendedCompareBalanceWithProxyResult'];
  'worker.HandshakeCompleted': TlConstructors['worker.proxyHandshakeCompleted'];
  'worker.PaymentStatus': TlConstructors['worker.paymentStatus'];
  'keyManager.PrivateKey': TlConstructors['keyManager.privateKey'];
  'keyManager.PrivateKeys': TlConstructors['keyManager.privateKeys'];
  'http.Header': TlConstructors['http.header'];
  'http.Response': TlConstructors['http.response'];
  'ext.SealRecipient': TlConstructors['ext.sealRecipient'];
  'ext.SealedQuery': TlConstructors['ext.sealedQuery'];
  'ext.SealedQueryHeader': TlConstructors['ext.sealedQueryHeader'];
  'ext.SealedAnswerHead': TlConstructors['ext.sealedAnswerHead'];
  'ext.WorkerInfo': TlConstructors['ext.workerInfo'];
  'ext.Workers': TlConstructors['ext.workers'];
  'ext.ReceiptBody': TlConstructors['ext.receiptBody'];
  'ext.WorkerReceipt': TlConstructors['ext.workerReceipt'];
  'ext.ReceiptCharge': TlConstructors['ext.receiptCharge'];
  'ext.Receipt': TlConstructors['ext.receipt'];
  'ext.ClientReceipt': TlConstructors['ext.clientReceipt'];
  'ext.WorkerCertificate': TlConstructors['ext.workerCertificate'];
  'ext.Evidence': TlConstructors['ext.evidence'];
  'ext.Attestation': TlConstructors['ext.attestation'];
}

/** What each function returns. */
export interface TlFunctionResults {
  'test.query': TlTypes['test.Answer'];
  'client.connectToProxy': TlTypes['client.ConnectedToProxy'];
  'client.authorizeWithProxyShort': TlTypes['client.AuthorizationWithProxy'];
  'client.authorizeWithProxyLong': TlTypes['client.AuthorizationWithProxy'];
  'client.runQuery': TlTypes['client.QueryAnswer'];
  'client.runQueryEx': TlTypes['client.QueryAnswerEx'];
  'client.requestRefund': TlTypes['client.Refund'];
  'client.updatePaymentStatus': TlTypes['client.PaymentStatus'];
  'client.getWorkerTypes': TlTypes['client.WorkerTypes'];
  'client.getWorkerTypesV2': TlTypes['client.WorkerTypesV2'];
  'proxy.runQuery': TlTypes['proxy.QueryAnswer'];
  'proxy.runQueryEx': TlTypes['proxy.QueryAnswer'];
  'worker.connectToProxy': TlTypes['worker.ConnectedToProxy'];
  'worker.compareBalanceWithProxy': TlTypes['worker.CompareBalanceWithProxyResult'];
  'worker.extendedCompareBalanceWithProxy': TlTypes['worker.ExtendedCompareBalanceWithProxyResult'];
  'worker.proxyHandshakeComplete': TlTypes['worker.HandshakeCompleted'];
  'worker.updatePaymentStatus': TlTypes['worker.PaymentStatus'];
  'keyManager.getWorkerPrivateKeys': TlTypes['keyManager.PrivateKeys'];
  'keyManager.getProxyPrivateKeys': TlTypes['keyManager.PrivateKeys'];
  'http.request': TlTypes['http.Response'];
  'ext.getWorkers': TlTypes['ext.Workers'];
  'ext.getAttestation': TlTypes['ext.Attestation'];
  'ext.attest': TlTypes['ext.Evidence'];
}

/** Any constructor or function object. */
export type TlAny = TlConstructors[keyof TlConstructors] | TlFunctions[keyof TlFunctions];

export type TcpPing = TlConstructors['tcp.ping'];
export type TcpPong = TlConstructors['tcp.pong'];
export type TcpPacket = TlConstructors['tcp.packet'];
export type TcpQueryAnswer = TlConstructors['tcp.queryAnswer'];
export type TcpQueryError = TlConstructors['tcp.queryError'];
export type TcpQuery = TlConstructors['tcp.query'];
export type TcpConnected = TlConstructors['tcp.connected'];
export type TcpConnect = TlConstructors['tcp.connect'];
export type TonBlockIdExt = TlConstructors['ton.blockIdExt'];
export type TestAnswer = TlConstructors['test.answer'];
export type TestQuery = TlFunctions['test.query'];
export type ProxyRunnerConfig = TlConstructors['proxyRunner.config'];
export type WorkerRunnerConfig = TlConstructors['workerRunner.config'];
export type ClientRunnerConfig = TlConstructors['clientRunner.config'];
export type KeyStorageRunnerConfig = TlConstructors['keyStorageRunner.config'];
export type RootConfigRegisteredProxy = TlConstructors['rootConfig.registeredProxy'];
export type RootConfigPseudo = TlConstructors['rootConfig.pseudo'];
export type RootConfigConfigV5 = TlConstructors['rootConfig.configV5'];
export type ProxyDbClientInfo = TlConstructors['proxyDb.clientInfo'];
export type ProxyDbClientInfoV2 = TlConstructors['proxyDb.clientInfoV2'];
export type ProxyDbWorkerInfo = TlConstructors['proxyDb.workerInfo'];
export type ProxyDbPendingBlockchainSeqnoCommit = TlConstructors['proxyDb.pendingBlockchainSeqnoCommit'];
export type ProxyDbConfigEmpty = TlConstructors['proxyDb.configEmpty'];
export type ProxyDbConfigV4 = TlConstructors['proxyDb.configV4'];
export type ProxyDbConfigV4Disabled = TlConstructors['proxyDb.configV4Disabled'];
export type ProxyDbOldClient = TlConstructors['proxyDb.oldClient'];
export type ProxyDbOldWorker = TlConstructors['proxyDb.oldWorker'];
export type ProxyDbOldInstance = TlConstructors['proxyDb.oldInstance'];
export type KeyManagerDbConfigEmpty = TlConstructors['keyManagerDb.configEmpty'];
export type KeyManagerDbConfigV1 = TlConstructors['keyManagerDb.configV1'];
export type KeyManagerDbKey = TlConstructors['keyManagerDb.key'];
export type TokensUsed = TlConstructors['tokensUsed'];
export type WorkerParams = TlConstructors['worker.params'];
export type ProxyParams = TlConstructors['proxy.params'];
export type ClientParams = TlConstructors['client.params'];
export type ClientProxyConnectionAuthShort = TlConstructors['client.proxyConnectionAuthShort'];
export type ClientProxyConnectionAuthLong = TlConstructors['client.proxyConnectionAuthLong'];
export type ClientAuthorizationWithProxySuccess = TlConstructors['client.authorizationWithProxySuccess'];
export type ClientAuthorizationWithProxyFailed = TlConstructors['client.authorizationWithProxyFailed'];
export type ClientConnectedToProxy = TlConstructors['client.connectedToProxy'];
export type ClientQueryAnswer = TlConstructors['client.queryAnswer'];
export type ClientQueryAnswerError = TlConstructors['client.queryAnswerError'];
export type ClientQueryAnswerPart = TlConstructors['client.queryAnswerPart'];
export type ClientQueryAnswerPartError = TlConstructors['client.queryAnswerPartError'];
export type ClientQueryFinalInfo = TlConstructors['client.queryFinalInfo'];
export type ClientQueryAnswerEx = TlConstructors['client.queryAnswerEx'];
export type ClientQueryAnswerErrorEx = TlConstructors['client.queryAnswerErrorEx'];
export type ClientQueryAnswerPartEx = TlConstructors['client.queryAnswerPartEx'];
export type ClientRefund = TlConstructors['client.refund'];
export type ClientRefundRejected = TlConstructors['client.refundRejected'];
export type ClientWorkerType = TlConstructors['client.workerType'];
export type ClientWorkerTypes = TlConstructors['client.workerTypes'];
export type ClientWorkerInstanceV2 = TlConstructors['client.workerInstanceV2'];
export type ClientWorkerTypeV2 = TlConstructors['client.workerTypeV2'];
export type ClientWorkerTypesV2 = TlConstructors['client.workerTypesV2'];
export type ClientPaymentStatus = TlConstructors['client.paymentStatus'];
export type ProxyClientRequestPayment = TlConstructors['proxy.clientRequestPayment'];
export type ClientConnectToProxy = TlFunctions['client.connectToProxy'];
export type ClientAuthorizeWithProxyShort = TlFunctions['client.authorizeWithProxyShort'];
export type ClientAuthorizeWithProxyLong = TlFunctions['client.authorizeWithProxyLong'];
export type ClientRunQuery = TlFunctions['client.runQuery'];
export type ClientRunQueryEx = TlFunctions['client.runQueryEx'];
export type ClientRequestRefund = TlFunctions['client.requestRefund'];
export type ClientUpdatePaymentStatus = TlFunctions['client.updatePaymentStatus'];
export type ClientGetWorkerTypes = TlFunctions['client.getWorkerTypes'];
export type ClientGetWorkerTypesV2 = TlFunctions['client.getWorkerTypesV2'];
export type ProxySignedPayment = TlConstructors['proxy.signedPayment'];
export type ProxySignedPaymentEmpty = TlConstructors['proxy.signedPaymentEmpty'];
export type ProxyQueryAnswer = TlConstructors['proxy.queryAnswer'];
export type ProxyQueryAnswerError = TlConstructors['proxy.queryAnswerError'];
export type ProxyQueryAnswerPart = TlConstructors['proxy.queryAnswerPart'];
export type ProxyQueryAnswerPartError = TlConstructors['proxy.queryAnswerPartError'];
export type ProxyQueryFinalInfo = TlConstructors['proxy.queryFinalInfo'];
export type ProxyQueryAnswerEx = TlConstructors['proxy.queryAnswerEx'];
export type ProxyQueryAnswerErrorEx = TlConstructors['proxy.queryAnswerErrorEx'];
export type ProxyQueryAnswerPartEx = TlConstructors['proxy.queryAnswerPartEx'];
export type ProxyWorkerRequestPayment = TlConstructors['proxy.workerRequestPayment'];
export type ProxyRunQuery = TlFunctions['proxy.runQuery'];
export type ProxyRunQueryEx = TlFunctions['proxy.runQueryEx'];
export type WorkerEnabledDisabled = TlConstructors['worker.enabledDisabled'];
export type WorkerNewCoefficient = TlConstructors['worker.newCoefficient'];
export type WorkerConnectedToProxy = TlConstructors['worker.connectedToProxy'];
export type WorkerCompareBalanceWithProxyResult = TlConstructors['worker.compareBalanceWithProxyResult'];
export type WorkerExtendedCompareBalanceWithProxyResult = TlConstructors['worker.extendedCompareBalanceWithProxyResult'];
export type WorkerProxyHandshakeCompleted = TlConstructors['worker.proxyHandshakeCompleted'];
export type WorkerPaymentStatus = TlConstructors['worker.paymentStatus'];
export type WorkerConnectToProxy = TlFunctions['worker.connectToProxy'];
export type WorkerCompareBalanceWithProxy = TlFunctions['worker.compareBalanceWithProxy'];
export type WorkerExtendedCompareBalanceWithProxy = TlFunctions['worker.extendedCompareBalanceWithProxy'];
export type WorkerProxyHandshakeComplete = TlFunctions['worker.proxyHandshakeComplete'];
export type WorkerUpdatePaymentStatus = TlFunctions['worker.updatePaymentStatus'];
export type KeyManagerPrivateKey = TlConstructors['keyManager.privateKey'];
export type KeyManagerPrivateKeys = TlConstructors['keyManager.privateKeys'];
export type KeyManagerGetWorkerPrivateKeys = TlFunctions['keyManager.getWorkerPrivateKeys'];
export type KeyManagerGetProxyPrivateKeys = TlFunctions['keyManager.getProxyPrivateKeys'];
export type HttpHeader = TlConstructors['http.header'];
export type HttpResponse = TlConstructors['http.response'];
export type HttpRequest = TlFunctions['http.request'];
export type ExtSealRecipient = TlConstructors['ext.sealRecipient'];
export type ExtSealedQuery = TlConstructors['ext.sealedQuery'];
export type ExtSealedQueryHeader = TlConstructors['ext.sealedQueryHeader'];
export type ExtSealedAnswerHead = TlConstructors['ext.sealedAnswerHead'];
export type ExtWorkerInfo = TlConstructors['ext.workerInfo'];
export type ExtWorkers = TlConstructors['ext.workers'];
export type ExtReceiptBody = TlConstructors['ext.receiptBody'];
export type ExtWorkerReceipt = TlConstructors['ext.workerReceipt'];
export type ExtReceiptCharge = TlConstructors['ext.receiptCharge'];
export type ExtReceipt = TlConstructors['ext.receipt'];
export type ExtClientReceipt = TlConstructors['ext.clientReceipt'];
export type ExtWorkerCertificate = TlConstructors['ext.workerCertificate'];
export type ExtEvidence = TlConstructors['ext.evidence'];
export type ExtAttestation = TlConstructors['ext.attestation'];
export type ExtGetWorkers = TlFunctions['ext.getWorkers'];
export type ExtGetAttestation = TlFunctions['ext.getAttestation'];
export type ExtAttest = TlFunctions['ext.attest'];

/** Constructor ids (unsigned), by name. */
export const TL_IDS = {
  'bytes': 0x184614d1,
  'true': 0x3fedd339,
  'boolTrue': 0x997275b5,
  'boolFalse': 0xbc799737,
  'vector': 0x1cb5c415,
  'int128': 0x84ccf7b7,
  'int256': 0x7bedeb5b,
  'tcp.ping': 0xbbe9627c,
  'tcp.pong': 0x0bd4302c,
  'tcp.packet': 0x9c17baf8,
  'tcp.queryAnswer': 0xc048c311,
  'tcp.queryError': 0x4cd2f602,
  'tcp.query': 0x3af51908,
  'tcp.connected': 0x636d41d6,
  'tcp.connect': 0xa57c4261,
  'ton.blockIdExt': 0xbc3f6da5,
  'test.answer': 0x0d4fcdb6,
  'test.query': 0x394e9143,
  'proxyRunner.config': 0x5bf5e272,
  'workerRunner.config': 0x870db56d,
  'clientRunner.config': 0xaf0bd51f,
  'keyStorageRunner.config': 0xd7874e40,
  'rootConfig.registeredProxy': 0x9f4e446a,
  'rootConfig.pseudo': 0x87a976cc,
  'rootConfig.configV5': 0x5e84869b,
  'proxyDb.clientInfo': 0x6cfeaa21,
  'proxyDb.clientInfoV2': 0x3078c9bf,
  'proxyDb.workerInfo': 0x2517b38f,
  'proxyDb.pendingBlockchainSeqnoCommit': 0x525b14a9,
  'proxyDb.configEmpty': 0x43dc40b4,
  'proxyDb.configV4': 0xbde43703,
  'proxyDb.configV4Disabled': 0xad2cfb4a,
  'proxyDb.oldClient': 0x2fae7b42,
  'proxyDb.oldWorker': 0xf04156a0,
  'proxyDb.oldInstance': 0xa8c9e178,
  'keyManagerDb.configEmpty': 0xd3fc2385,
  'keyManagerDb.configV1': 0x6d2817ac,
  'keyManagerDb.key': 0x4d0a1e17,
  'tokensUsed': 0x70c5b15c,
  'worker.params': 0x869c73ed,
  'proxy.params': 0xd5c5609f,
  'client.params': 0x40fdca64,
  'client.proxyConnectionAuthShort': 0xd6ffc5af,
  'client.proxyConnectionAuthLong': 0x417bf016,
  'client.authorizationWithProxySuccess': 0x75d5ac34,
  'client.authorizationWithProxyFailed': 0x60551c96,
  'client.connectedToProxy': 0x95317ad1,
  'client.queryAnswer': 0x9b943922,
  'client.queryAnswerError': 0x6d60569a,
  'client.queryAnswerPart': 0xb765de4c,
  'client.queryAnswerPartError': 0xd790a022,
  'client.queryFinalInfo': 0x69a452f0,
  'client.queryAnswerEx': 0xcd524720,
  'client.queryAnswerErrorEx': 0x072562a8,
  'client.queryAnswerPartEx': 0xc07bfaec,
  'client.refund': 0x83aabead,
  'client.refundRejected': 0xcf9d9957,
  'client.workerType': 0x8210e21c,
  'client.workerTypes': 0xf64e0e01,
  'client.workerInstanceV2': 0x3ea93d00,
  'client.workerTypeV2': 0xb27d8197,
  'client.workerTypesV2': 0x0cf0dc67,
  'client.paymentStatus': 0xaa8a0ecc,
  'proxy.clientRequestPayment': 0xc6bcf127,
  'client.connectToProxy': 0xff5fa0f4,
  'client.authorizeWithProxyShort': 0x6c276723,
  'client.authorizeWithProxyLong': 0xd3474303,
  'client.runQuery': 0xbc748f32,
  'client.runQueryEx': 0xf54cb74b,
  'client.requestRefund': 0x238d863d,
  'client.updatePaymentStatus': 0x9ed1c697,
  'client.getWorkerTypes': 0x7f062bdb,
  'client.getWorkerTypesV2': 0xb2133d72,
  'proxy.signedPayment': 0x02998182,
  'proxy.signedPaymentEmpty': 0xb347ce64,
  'proxy.queryAnswer': 0x37e5f725,
  'proxy.queryAnswerError': 0x669d014e,
  'proxy.queryAnswerPart': 0x72eb00ee,
  'proxy.queryAnswerPartError': 0x940e1168,
  'proxy.queryFinalInfo': 0xe794e6fc,
  'proxy.queryAnswerEx': 0x1ce574e8,
  'proxy.queryAnswerErrorEx': 0x8f7fb0a7,
  'proxy.queryAnswerPartEx': 0x6d85b50f,
  'proxy.workerRequestPayment': 0x1436c0d5,
  'proxy.runQuery': 0x47182416,
  'proxy.runQueryEx': 0xc805e7e2,
  'worker.enabledDisabled': 0xb3b71039,
  'worker.newCoefficient': 0x6af092b0,
  'worker.connectedToProxy': 0x66bc82ee,
  'worker.compareBalanceWithProxyResult': 0x9054c411,
  'worker.extendedCompareBalanceWithProxyResult': 0x0c10973e,
  'worker.proxyHandshakeCompleted': 0x3ad9b886,
  'worker.paymentStatus': 0xa88bd701,
  'worker.connectToProxy': 0xcc484c5d,
  'worker.compareBalanceWithProxy': 0xdb386501,
  'worker.extendedCompareBalanceWithProxy': 0xf8dd9914,
  'worker.proxyHandshakeComplete': 0xf843b066,
  'worker.updatePaymentStatus': 0xdc70a524,
  'keyManager.privateKey': 0x60f4f8e7,
  'keyManager.privateKeys': 0x0ed66ce5,
  'keyManager.getWorkerPrivateKeys': 0x2a26eff5,
  'keyManager.getProxyPrivateKeys': 0x47a9c2de,
  'http.header': 0x8e9be511,
  'http.response': 0x1cd0c42b,
  'http.request': 0x47492de5,
  'ext.sealRecipient': 0xa014f96f,
  'ext.sealedQuery': 0x32934a17,
  'ext.sealedQueryHeader': 0xf3d245ba,
  'ext.sealedAnswerHead': 0x976f10db,
  'ext.workerInfo': 0x5f09b26b,
  'ext.workers': 0x93356856,
  'ext.receiptBody': 0xd8ec4981,
  'ext.workerReceipt': 0x2b1b7305,
  'ext.receiptCharge': 0x92daf35c,
  'ext.receipt': 0xb36dcc33,
  'ext.clientReceipt': 0xfdb0f8f3,
  'ext.workerCertificate': 0x32171e1d,
  'ext.evidence': 0x4e8a53c8,
  'ext.attestation': 0x2c2d2e8d,
  'ext.getWorkers': 0xbe852e86,
  'ext.getAttestation': 0xd2ead174,
  'ext.attest': 0x01321ad1,
} as const;
