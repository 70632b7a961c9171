// Preloaded by `npm start` before any module: the SDK warns about Node 20 at import time otherwise.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
