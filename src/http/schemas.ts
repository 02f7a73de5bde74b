import { Type } from 'typebox';

/** The 3Commas error shape, for the OpenAPI document. */
export const ErrorSchema = Type.Object({
  error: Type.String(),
  error_description: Type.Optional(Type.String()),
  error_attributes: Type.Optional(Type.Record(Type.String(), Type.Array(Type.String()))),
});
