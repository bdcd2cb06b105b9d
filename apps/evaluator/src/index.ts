export { evaluatorService } from './service';
export { evaluate } from './evaluate';
