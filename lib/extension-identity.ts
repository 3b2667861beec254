// The extension's fixed identity: manifest key and the Chromium id derived from it. Runtime-neutral.
// The id is what managed policy (/etc/chromium/policies/managed) and the browser tests key on.

/** SPKI (DER, base64) of the RSA key whose SHA-256 fixes the Chromium extension id. Public by design. */
export const EXTENSION_KEY =
  'MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAtakOyaaei4H/qjLge7dQraBu/8+XsqfYEDrv1EyxStsietxkSsXAXi5NaAGYZgMnIeU78MATc3vDpPR+ZSoKLLG3XAFURmyFySulVit1LlTlDudKqvFZLIr7z1IUmECjvlImrZAMMaVlvEX1C8N2+5ewK0ISlyaf5lxBzNGNx6Q1GBWYwoJ6hqlzzF3M2Yfy8us2e+AiKrcoWNMuaXZhxIK01gzWHRgjXA3bAi205iPojNSQn8m2yLjGh0lwCSaKDvEELvhM2PiRqEnYqkrxmyOrYE+t5g57vqsHD+J8qZiJe3CVUkaBB8A5nTkESl1Jjc4LvaZimJbDwDg+i1BfvQIDAQAB';

/** Chromium extension id: first 128 bits of SHA-256(EXTENSION_KEY), hex digits mapped to a–p. */
export const EXTENSION_ID = 'leelpbfgmamkjjkciaifjeihgadjnmgj';

/** Firefox add-on id (Firefox ignores `key`; it needs an explicit gecko id). */
export const GECKO_ID = 'countersign@countersign.dev';
